package io.feedline.dispatcher.sink;

import io.feedline.common.fence.Epochs;

/**
 * The sink refused a write: a newer ownership of the changefeed (a higher epoch) has written this span, so
 * the writer is a zombie of an older one (DESIGN §3, sink-side fencing). The dispatcher stops; nothing of
 * the batch was written.
 */
public final class FencedWriteException extends IllegalStateException {

  public FencedWriteException(String span, long writerEpoch, long tokenEpoch, String tokenOwner) {
    this("write to " + span + " at epoch " + Epochs.format(writerEpoch) + " refused: the span's fencing token is epoch "
        + Epochs.format(tokenEpoch) + " (dispatcher " + tokenOwner + ")");
  }

  private FencedWriteException(String message) {
    super(message);
  }

  /**
   * Refused by the changefeed-wide token: a writer of a newer epoch has written some span of the changefeed
   * (perhaps this span in another shape, after a split or a merge).
   */
  public static FencedWriteException byChangefeed(String span, long writerEpoch, long tokenEpoch) {
    return new FencedWriteException("write to " + span + " at epoch " + Epochs.format(writerEpoch)
        + " refused: the changefeed has been written at epoch " + Epochs.format(tokenEpoch) + " since (a newer ownership)");
  }
}
