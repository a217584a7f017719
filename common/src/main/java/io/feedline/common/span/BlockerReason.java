package io.feedline.common.span;

/**
 * Why a span holds its changefeed's checkpoint back, as {@code changefeed query} shows it and as the
 * {@code reason} label of {@code feedline_changefeed_checkpoint_blockers} spells it.
 */
public enum BlockerReason {
  /** Its dispatcher is blocked at a DDL: the barrier has not let it pass yet. */
  DDL_BARRIER("ddl-barrier"),
  /** Its sink has had a write outstanding for long, or a dispatcher of it failed writing. */
  SINK_ERROR("sink-error"),
  /** Its dispatcher has written all the source resolved, or failed reading. */
  SOURCE_BEHIND("source-behind"),
  /** An operator is placing, moving or removing it. */
  MOVING("moving"),
  /** No dispatcher replicates it. */
  ABSENT("absent");

  private final String label;

  BlockerReason(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
