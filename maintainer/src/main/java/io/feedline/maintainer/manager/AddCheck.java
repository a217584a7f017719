package io.feedline.maintainer.manager;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.uri.SinkUris;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ChangefeedInfo;

/** An add request checked for everything the manager relies on before acting on it. */
sealed interface AddCheck {

  /** A request the manager can act on, with its parsed config. */
  record Valid(ChangefeedId changefeed, ChangefeedInfo info, AddMaintainerRequest request) implements AddCheck {
    /** The config holds the sink URI: a log line that prints this value must not leak its credentials. */
    @Override
    public String toString() {
      return "Valid[changefeed=" + changefeed + ", epoch=" + Epochs.format(request.getEpoch()) + ", sink="
          + SinkUris.redact(info.getSinkUri()) + "]";
    }
  }

  /**
   * A request that must be answered with an error status instead.
   *
   * @param reason the metric label, e.g. {@code zero_checkpoint_ts}
   * @param message for the operator; never holds a secret (the config is never quoted)
   * @param sinkUri the raw sink URI when the config parsed, else empty; redact before showing
   */
  record Invalid(String reason, String message, String sinkUri) implements AddCheck {}

  static AddCheck of(AddMaintainerRequest request) {
    String id = request.getChangefeedId();
    if (!ChangefeedId.isValid(id)) {
      return invalidId(id);
    }
    ChangefeedInfo info;
    try {
      info = ChangefeedInfo.parseFrom(request.getConfig());
    } catch (InvalidProtocolBufferException e) {
      return new Invalid("unparsable_config", "config is not a serialized ChangefeedInfo: " + e.getMessage(), "");
    }
    if (!info.getId().equals(id)) {
      return new Invalid("changefeed_id_mismatch",
          "config is for changefeed '" + shown(info.getId()) + "', not '" + id + "'", info.getSinkUri());
    }
    if (request.getCheckpointTs() == 0) {
      return new Invalid("zero_checkpoint_ts", "checkpoint_ts is 0: a maintainer needs a checkpoint to start from", info.getSinkUri());
    }
    return new Valid(ChangefeedId.of(id), info, request);
  }

  /** The answer to an add whose changefeed id is not one. */
  static Invalid invalidId(String id) {
    return new Invalid("invalid_changefeed_id",
        "changefeed id '" + shown(id) + "' is invalid: use 1-128 letters, digits, '_', '.', '-', starting with a letter or digit", "");
  }

  /** Remote text made safe for one log line: printable and bounded. */
  static String shown(String raw) {
    String bounded = raw.length() > 64 ? raw.substring(0, 64) + "..." : raw;
    return bounded.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
