package io.feedline.simulation;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.check.ChangeLine;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One changefeed's downstream, shared by every node that writes it: what a database behind the sink would hold. It
 * applies the sink-side fence (a write from an epoch below the highest one it accepted is refused, as the PostgreSQL
 * sink's fencing row refuses it), keeps every accepted event in the order written, and checks on every accepted
 * write that no two writers held overlapping spans at once: once a writer wrote a span, every other writer that wrote
 * an overlapping part before is retired for that part, and a retired writer's accepted write there is a violation.
 */
final class Downstream {

  /** Who writes: one dispatcher on one node incarnation. */
  record Writer(NodeId node, DispatcherKey dispatcher) {
    /** The writers of one node incarnation. */
    interface Factory {
      Writer of(DispatcherKey dispatcher);
    }

    @Override
    public String toString() {
      return node.value() + "/" + Long.toHexString(dispatcher.low() & 0xffff);
    }
  }

  private record Held(Writer writer, TableSpan span) {}

  final ChangefeedId changefeed;
  final String sourceUri;
  final long startTs;
  private long fenceEpoch;
  private final List<ChangeLine> written = new ArrayList<>();
  private final Set<String> writtenLines = new HashSet<>();
  private final List<Held> holders = new ArrayList<>();
  private final List<Held> retired = new ArrayList<>();
  long attempts;
  long fenced;
  long accepted;

  Downstream(ChangefeedId changefeed, String sourceUri, long startTs) {
    this.changefeed = changefeed;
    this.sourceUri = sourceUri;
    this.startTs = startTs;
  }

  /**
   * Applies one batch that reached the database: refused by the fence (the exception to fail the write with), or
   * accepted; an accepted write from a retired writer is returned as a violation.
   */
  Outcome apply(Writer writer, SinkBatch batch) {
    attempts++;
    if (batch.epoch() < fenceEpoch) {
      fenced++;
      return new Outcome(Optional.of(FencedWriteException.byChangefeed(TableSpans.format(batch.span()), batch.epoch(), fenceEpoch)),
          Optional.empty());
    }
    fenceEpoch = batch.epoch();
    accepted++;
    Optional<String> violation = claim(writer, batch.span());
    for (ChangeEvent event : batch.events()) {
      ChangeLine line = ChangeLine.of(event);
      written.add(line);
      writtenLines.add(line.line());
    }
    return new Outcome(Optional.empty(), violation);
  }

  record Outcome(Optional<FencedWriteException> refusal, Optional<String> violation) {}

  private Optional<String> claim(Writer writer, TableSpan span) {
    for (Held r : retired) {
      if (r.writer.equals(writer) && TableSpans.overlaps(r.span, span)) {
        return Optional.of("ONE_WRITER: " + changefeed + " span " + TableSpans.format(span) + " written by " + writer
            + " after another writer took over " + TableSpans.format(r.span));
      }
    }
    for (Held h : List.copyOf(holders)) {
      if (!h.writer.equals(writer) && TableSpans.overlaps(h.span, span)) {
        holders.remove(h);
        retired.add(h);
      }
    }
    if (holders.stream().noneMatch(h -> h.writer.equals(writer) && h.span.equals(span))) {
      holders.add(new Held(writer, span));
    }
    return Optional.empty();
  }

  /** Whether the event is held downstream. */
  boolean holds(ChangeLine line) {
    return writtenLines.contains(line.line());
  }

  /** Every accepted event, in the order written. */
  List<ChangeLine> written() {
    return written;
  }
}
