package io.feedline.node.admin;

/**
 * Who sent an admin request, as far as the API cares: the {@code authorization} header (null when absent)
 * and whether another node already forwarded it here.
 */
public record Caller(String authorization, boolean forwarded) {

  /** Marks a request one node forwarded to the coordinator's node, so it is never forwarded twice. */
  public static final String FORWARDED_HEADER = "feedline-forwarded-by";
}
