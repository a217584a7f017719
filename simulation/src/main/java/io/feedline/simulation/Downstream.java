package io.feedline.simulation;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.check.ChangeLine;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.RecordedShapes;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One changefeed's downstream, shared by every node that writes it: what a database behind the PostgreSQL sink would
 * hold, kept as that sink keeps it (DESIGN §7). A batch commits only past both fences: the changefeed's epoch row
 * (raised by every writer, a lower epoch refused) and its span shape's row (claimed at the batch's epoch, refused when a
 * higher epoch holds it). A writer's first batch learns how far its key range is applied, and its table's last applied
 * TRUNCATE or DROP ({@link RecordedShapes#skipThrough}), and every event at or below that is skipped, so a replay from
 * an older checkpoint changes nothing; a batch lowers the
 * other overlapping shapes' checkpoints to where it re-applies from, and records its own. What commits is kept in the
 * order written. On every committed batch it also checks that no two writers held overlapping spans at once: once a
 * writer wrote a span, every other writer that wrote an overlapping part before is retired for that part, and a
 * retired writer's committed write there is a violation.
 */
final class Downstream {

  /** Who writes: one dispatcher on one node incarnation. */
  record Writer(NodeId node, DispatcherKey dispatcher) {
    @Override
    public String toString() {
      return node.value() + "/" + Long.toHexString(dispatcher.low() & 0xffff);
    }
  }

  private record Held(Writer writer, TableSpan span) {}

  /** A span shape's row: who claimed it at which epoch, and its checkpoint. */
  private static final class ShapeRow {
    final TableSpan span;
    long epoch;
    long checkpoint;

    ShapeRow(TableSpan span, long epoch, long checkpoint) {
      this.span = span;
      this.epoch = epoch;
      this.checkpoint = checkpoint;
    }
  }

  final ChangefeedId changefeed;
  final String sourceUri;
  final long startTs;
  /** The changefeed's epoch row. */
  private long changefeedEpoch;
  /** The span shape rows, by span. */
  private final Map<TableSpan, ShapeRow> shapes = new LinkedHashMap<>();
  /** Per writer and span, how far its key range is applied: learnt at its first batch, raised by each. */
  private final Map<String, Long> applied = new HashMap<>();
  /** Per table, the commit ts of its last applied TRUNCATE or DROP. */
  private final Map<Long, Long> cleared = new HashMap<>();
  private final List<ChangeEvent> written = new ArrayList<>();
  /** Who wrote each of {@link #written}, for a failure's story. */
  private final List<String> writers = new ArrayList<>();
  private final Set<ChangeEvent> held = new HashSet<>();
  private final List<Held> holders = new ArrayList<>();
  private final List<Held> retired = new ArrayList<>();
  /** Times a writer took over a span (or part of one) another writer had written: the span moves the writes show. */
  long handoffs;
  /** Events a replay skipped only because a TRUNCATE or DROP of their table had wiped them: the regression seeds' case. */
  long clearedSkips;
  /** DDLs applied. */
  long ddls;
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
    changefeedEpoch = Math.max(changefeedEpoch, batch.epoch()); // raised in a transaction of its own, before the batch's
    String writerKey = batch.dispatcher() + "/" + TableSpans.format(batch.span());
    long through = applied.computeIfAbsent(writerKey, w -> {
      List<RecordedShapes.Shape> recorded = overlapping(batch.span());
      long shapesApplied = RecordedShapes.appliedThrough(batch.span(), recorded);
      long skip = RecordedShapes.skipThrough(batch.span(), recorded, cleared.getOrDefault(batch.span().getTableId(), -1L));
      clearedSkips += batch.events().stream().filter(e -> e.commitTs() <= skip && e.commitTs() > shapesApplied).count();
      return skip;
    });
    ShapeRow own = shapes.get(batch.span());
    if (batch.epoch() < changefeedEpoch || (own != null && own.epoch > batch.epoch())) {
      fenced++;
      long token = own != null && own.epoch > batch.epoch() ? own.epoch : changefeedEpoch;
      return new Outcome(Optional.of(FencedWriteException.byChangefeed(TableSpans.format(batch.span()), batch.epoch(), token)),
          Optional.empty());
    }
    // The transaction: claim the shape, let the others go of what this writer re-applies, apply, record the checkpoint.
    if (own == null) {
      own = new ShapeRow(batch.span(), batch.epoch(), batch.fromTs());
      shapes.put(batch.span(), own);
    }
    own.epoch = batch.epoch();
    long floor = Math.max(through, batch.fromTs());
    for (ShapeRow other : shapes.values()) {
      if (other != own && TableSpans.overlaps(other.span, batch.span()) && other.checkpoint > floor) {
        other.checkpoint = floor;
      }
    }
    String by = writer + " at epoch " + batch.epoch() + " for " + TableSpans.format(batch.span()) + " (" + batch.fromTs() + ", "
        + batch.resolvedTs() + "]";
    for (ChangeEvent event : batch.events()) {
      if (event.commitTs() > through) {
        written.add(event);
        writers.add(by);
        held.add(event);
        if (event instanceof DdlEvent ddl) {
          ddls++;
          if (RecordedShapes.clears(ddl)) {
            cleared.merge(ddl.tableId(), ddl.commitTs(), Math::max);
          }
        }
      }
    }
    own.checkpoint = Math.max(own.checkpoint, batch.resolvedTs());
    applied.merge(writerKey, batch.resolvedTs(), Math::max);
    accepted++;
    return new Outcome(Optional.empty(), claim(writer, batch.span()));
  }

  private List<RecordedShapes.Shape> overlapping(TableSpan span) {
    List<RecordedShapes.Shape> out = new ArrayList<>();
    for (ShapeRow row : shapes.values()) {
      if (TableSpans.overlaps(row.span, span)) {
        out.add(new RecordedShapes.Shape(row.span.getStartKey(), row.span.getEndKey(), row.checkpoint));
      }
    }
    return out;
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
        handoffs++;
      }
    }
    if (holders.stream().noneMatch(h -> h.writer.equals(writer) && h.span.equals(span))) {
      holders.add(new Held(writer, span));
    }
    return Optional.empty();
  }

  /** Whether the event is held downstream. */
  boolean holds(ChangeEvent event) {
    return held.contains(event);
  }

  /** The accepted writes of table {@code table} that touched {@code key} or were DDLs, in the order written, with their writers. */
  List<String> story(long table, String key) {
    List<String> story = new ArrayList<>();
    for (int i = 0; i < written.size(); i++) {
      ChangeLine line = ChangeLine.of(written.get(i));
      if (line.table() == table && (line.isDdl() || key.equals(line.key()))) {
        story.add(line.line() + "  <- " + writers.get(i));
      }
    }
    return story;
  }

  /** Every accepted event, in the order written, as the file sink would have written it. */
  List<ChangeLine> written() {
    return written.stream().map(ChangeLine::of).toList();
  }
}
