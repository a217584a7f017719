package io.feedline.dispatcher.sink;

import io.feedline.common.fence.Epochs;

/**
 * The sink refused a write: a newer ownership of the changefeed (a higher epoch) has written this span, so
 * the writer is a zombie of an older one (DESIGN §3, sink-side fencing). The dispatcher stops; nothing of
 * the batch was written.
 */
public final class FencedWriteException extends IllegalStateException {

  public FencedWriteException(String span, long writerEpoch, long tokenEpoch, String tokenOwner) {
    super("write to " + span + " at epoch " + Epochs.format(writerEpoch) + " refused: the span's fencing token is epoch "
        + Epochs.format(tokenEpoch) + " (dispatcher " + tokenOwner + ")");
  }
}
