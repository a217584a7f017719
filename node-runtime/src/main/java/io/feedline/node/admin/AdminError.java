package io.feedline.node.admin;

import io.feedline.coordinator.CoordinatorException;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.vertx.grpc.common.GrpcStatus;

/** An admin request refused or failed, as the caller sees it: a gRPC status and a one-line reason. */
public final class AdminError extends RuntimeException {

  private final GrpcStatus status;
  private final boolean undelivered;

  public AdminError(GrpcStatus status, String message) {
    this(status, message, false);
  }

  private AdminError(GrpcStatus status, String message, boolean undelivered) {
    super(message, null, false, false);
    this.status = status;
    this.undelivered = undelivered;
  }

  /**
   * UNAVAILABLE before any coordinator saw the request (none elected yet, its node not serving yet, not
   * reachable): sending it again is safe.
   */
  public static AdminError undelivered(String message) {
    return new AdminError(GrpcStatus.UNAVAILABLE, message, true);
  }

  public GrpcStatus status() {
    return status;
  }

  /** Whether no coordinator saw the request (see {@link #undelivered(String)}). */
  public boolean undelivered() {
    return undelivered;
  }

  /** The caller's view of any failure; unexpected ones become INTERNAL with their text. */
  public static AdminError of(Throwable err) {
    if (err instanceof AdminError e) {
      return e;
    }
    if (err instanceof InvalidEndpointException e) {
      return new AdminError(GrpcStatus.INVALID_ARGUMENT, e.getMessage());
    }
    if (err instanceof CoordinatorException e) {
      return new AdminError(switch (e.reason()) {
        case NOT_FOUND -> GrpcStatus.NOT_FOUND;
        case ALREADY_EXISTS -> GrpcStatus.ALREADY_EXISTS;
        case INVALID_ARGUMENT -> GrpcStatus.INVALID_ARGUMENT;
        case FAILED_PRECONDITION -> GrpcStatus.FAILED_PRECONDITION;
        case UNAVAILABLE -> GrpcStatus.UNAVAILABLE;
      }, e.getMessage());
    }
    return new AdminError(GrpcStatus.INTERNAL, String.valueOf(err));
  }

  /** The HTTP status the JSON API answers for a gRPC status. */
  public int httpStatus() {
    return switch (status) {
      case INVALID_ARGUMENT -> 400;
      case UNAUTHENTICATED -> 401;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS -> 409;
      case FAILED_PRECONDITION -> 412;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      default -> 500;
    };
  }
}
