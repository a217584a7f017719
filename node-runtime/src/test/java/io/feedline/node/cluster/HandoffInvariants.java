package io.feedline.node.cluster;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.span.TableSpans;
import io.feedline.node.cluster.HandoffEvent.MaintainerLeaving;
import io.feedline.node.cluster.HandoffEvent.MoveItem;
import io.feedline.node.cluster.HandoffEvent.Stopped;
import io.feedline.node.cluster.HandoffEvent.TriggerNamed;
import io.feedline.node.cluster.HandoffEvent.Working;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The span handoff invariants of a drain, checked on an exact {@link HandoffEvent} history:
 *
 * <ul>
 *   <li>{@value #ONE_WRITER}: no two dispatchers of one changefeed whose spans overlap are ever Working at
 *       once (DESIGN §9.1; the table trigger's span overlaps only the table trigger's).
 *   <li>{@value #GAP_WITHIN_ONE_MOVE}: a span is without a Working dispatcher only inside one move of it.
 *       Every gap between one Working dispatcher of a span stopping and the next one starting must be
 *       opened and closed by the same move: the stopped dispatcher was the origin of a move (a maintainer
 *       at epoch e sent its removal before it stopped) and the next one is that move's destination (the
 *       maintainer at the same epoch e created it). A gap nobody moved (self-healing, a failure, a stray
 *       removal) or one closed by another placement (a second move, a re-add after the mover's maintainer
 *       left) breaks it. The table trigger moves with its maintainer: its gap must start after the
 *       maintainer at e was asked to leave and end with the trigger the next maintainer (the lowest epoch
 *       above e that named one) created.
 *   <li>{@value #COVERED_AT_END}: every span that was ever Working has a Working dispatcher when the history
 *       ends (for histories taken when no move is in flight, of workloads that drop no table).
 * </ul>
 */
final class HandoffInvariants {

  static final String ONE_WRITER = "one-writer-per-span";
  static final String GAP_WITHIN_ONE_MOVE = "gap-within-one-move";
  static final String COVERED_AT_END = "covered-at-end";

  /** A span of a changefeed, as its dispatchers replicate it. */
  record SpanKey(ChangefeedId changefeed, TableSpan span) {
    @Override
    public String toString() {
      return changefeed + " " + TableSpans.format(span);
    }
  }

  /** A span had no Working dispatcher from event {@code from} (one stopped) to event {@code to} (the next one started). */
  record Gap(SpanKey span, long from, long to) {}

  /**
   * @param gaps every gap, legal or not (a legal one is one move)
   * @param workingAtEnd every span's Working dispatchers when the history ends
   */
  record Report(List<String> violations, List<Gap> gaps, Map<SpanKey, List<Working>> workingAtEnd) {
    /** How many gaps each span had that opened after event {@code from} and up to event {@code to}. */
    Map<SpanKey, Integer> gapsPerSpan(long from, long to) {
      Map<SpanKey, Integer> out = new LinkedHashMap<>();
      gaps.stream().filter(g -> g.from() > from && g.from() <= to).forEach(g -> out.merge(g.span(), 1, Integer::sum));
      return out;
    }
  }

  private record TableOf(ChangefeedId changefeed, long tableId) {}

  private record MoveOf(ChangefeedId changefeed, TableSpan span, DispatcherKey dispatcher) {}

  /** One Working life of a dispatcher: from its Working event to its Stopped one (null while it runs). */
  private static final class Life {
    final Working working;
    Stopped stopped;

    Life(Working working) {
      this.working = working;
    }
  }

  private HandoffInvariants() {}

  static Report check(Collection<HandoffEvent> history) {
    List<HandoffEvent> events = new ArrayList<>(history);
    events.sort(Comparator.comparingLong(HandoffEvent::seq));
    List<String> violations = new ArrayList<>();
    Map<MoveOf, List<MoveItem>> removes = new HashMap<>();
    Map<MoveOf, List<MoveItem>> creates = new HashMap<>();
    Map<ChangefeedId, List<MaintainerLeaving>> leaving = new HashMap<>();
    Map<ChangefeedId, List<TriggerNamed>> named = new HashMap<>();
    Map<TableOf, Map<DispatcherKey, Life>> running = new HashMap<>();
    Map<SpanKey, List<Life>> lives = new LinkedHashMap<>();

    for (HandoffEvent e : events) {
      if (e instanceof Working w) {
        Map<DispatcherKey, Life> table = running.computeIfAbsent(new TableOf(w.changefeed(), w.span().getTableId()), k -> new LinkedHashMap<>());
        for (Life other : table.values()) {
          if (TableSpans.overlaps(other.working.span(), w.span())) {
            violations.add(ONE_WRITER + ": " + new SpanKey(w.changefeed(), w.span()) + " " + at(w) + " started Working while "
                + at(other.working) + " (Working on " + TableSpans.format(other.working.span()) + ") had not stopped");
          }
        }
        Life life = new Life(w);
        table.put(w.dispatcher(), life);
        lives.computeIfAbsent(new SpanKey(w.changefeed(), w.span()), k -> new ArrayList<>()).add(life);
      } else if (e instanceof Stopped s) {
        Map<DispatcherKey, Life> table = running.get(new TableOf(s.changefeed(), s.span().getTableId()));
        Life life = table == null ? null : table.remove(s.dispatcher());
        if (life != null) {
          life.stopped = s; // a dispatcher stopped before it got to Working was never a writer
        }
      } else if (e instanceof MoveItem m) {
        (m.create() ? creates : removes).computeIfAbsent(new MoveOf(m.changefeed(), m.span(), m.dispatcher()), k -> new ArrayList<>()).add(m);
      } else if (e instanceof MaintainerLeaving l) {
        leaving.computeIfAbsent(l.changefeed(), k -> new ArrayList<>()).add(l);
      } else if (e instanceof TriggerNamed t) {
        named.computeIfAbsent(t.changefeed(), k -> new ArrayList<>()).add(t);
      }
    }

    List<Gap> gaps = new ArrayList<>();
    Map<SpanKey, List<Working>> workingAtEnd = new LinkedHashMap<>();
    lives.forEach((span, list) -> {
      for (int i = 1; i < list.size(); i++) {
        Life before = list.get(i - 1);
        Life after = list.get(i);
        if (before.stopped == null || before.stopped.seq() > after.working.seq()) {
          continue; // they overlap: a one-writer violation, reported above
        }
        gaps.add(new Gap(span, before.stopped.seq(), after.working.seq()));
        boolean oneMove = span.span().getTableId() == TableSpans.DDL_TABLE_ID
            ? oneMaintainerMove(before, after, leaving.getOrDefault(span.changefeed(), List.of()), named.getOrDefault(span.changefeed(), List.of()))
            : oneSpanMove(span, before, after, removes, creates);
        if (!oneMove) {
          violations.add(GAP_WITHIN_ONE_MOVE + ": " + span + " had no Working dispatcher from #" + before.stopped.seq() + " ("
              + at(before.working) + " stopped) to " + at(after.working) + ", and no single move took it from the one to the other");
        }
      }
      List<Working> now = list.stream().filter(l -> l.stopped == null).map(l -> l.working).toList();
      workingAtEnd.put(span, now);
      if (now.isEmpty()) {
        Life last = list.get(list.size() - 1);
        violations.add(COVERED_AT_END + ": " + span + " has no Working dispatcher since " + at(last.working) + " stopped at #" + last.stopped.seq());
      }
    });
    return new Report(violations, gaps, workingAtEnd);
  }

  /** The maintainer at some epoch e removed {@code before}'s dispatcher as a move's origin and created {@code after}'s as its destination. */
  private static boolean oneSpanMove(SpanKey span, Life before, Life after, Map<MoveOf, List<MoveItem>> removes, Map<MoveOf, List<MoveItem>> creates) {
    List<MoveItem> removed = removes.getOrDefault(new MoveOf(span.changefeed(), span.span(), before.working.dispatcher()), List.of());
    List<MoveItem> created = creates.getOrDefault(new MoveOf(span.changefeed(), span.span(), after.working.dispatcher()), List.of());
    for (MoveItem r : removed) {
      for (MoveItem c : created) {
        if (r.seq() < before.stopped.seq() && c.epoch() == r.epoch() && r.seq() < c.seq() && c.seq() < after.working.seq()) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The maintainer at some epoch e was asked to leave before the old trigger stopped, and the new trigger
   * is the one named by the next maintainer: the lowest epoch above e that named a trigger.
   */
  private static boolean oneMaintainerMove(Life before, Life after, List<MaintainerLeaving> leaving, List<TriggerNamed> named) {
    for (MaintainerLeaving l : leaving) {
      if (l.seq() > before.stopped.seq()) {
        continue;
      }
      Optional<Long> next = named.stream().filter(n -> n.seq() > l.seq() && Epochs.compare(n.epoch(), l.epoch()) > 0)
          .map(TriggerNamed::epoch).min(Epochs::compare);
      if (next.isPresent() && named.stream().anyMatch(n -> n.epoch() == next.get() && n.seq() > l.seq() && n.seq() < after.working.seq()
          && n.trigger().equals(after.working.dispatcher()))) {
        return true;
      }
    }
    return false;
  }

  private static String at(Working w) {
    return w.dispatcher() + "@" + w.node() + "#" + w.seq();
  }
}
