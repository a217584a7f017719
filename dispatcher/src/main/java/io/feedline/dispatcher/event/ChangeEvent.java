package io.feedline.dispatcher.event;

/** One upstream change, as a source delivers it and a sink writes it. */
public sealed interface ChangeEvent permits RowChange, DdlEvent {

  /** The table the change belongs to (never 0: that is the DDL span, not a table). */
  long tableId();

  /** The upstream commit timestamp; events of one span arrive in non-decreasing commit-ts order. */
  long commitTs();
}
