package io.feedline.maintainer.barrier;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.maintainer.span.SpanController;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.InfluenceType;
import io.feedline.proto.InfluencedTables;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The maintainer side of the DDL barrier (docs: BARRIER-CONTRACT). One event per (commit ts, blocked
 * tables): once the table trigger and every current span of every blocked table report WAITING at the
 * ts, the trigger (the single writer) is told WRITE; once it reports DONE (or a checkpoint past the ts),
 * the schema change is applied first (dropped tables lose their spans, created tables get spans from the
 * ts), then every other blocked dispatcher is told PASS. Actions are resent every resend interval until
 * answered. The state is rebuilt from block states alone (bootstrap snapshots and heartbeats), so a new
 * maintainer after a failover finishes an event wherever its predecessor left it; a writer found WRITING
 * is told WRITE again (DDL writes are idempotent).
 */
public final class Barrier {

  /** Schema changes the barrier applies when a DDL is written; the maintainer turns them into operators. */
  public interface SchemaChanges {
    /** {@code tableId} was dropped at {@code dropTs}: its spans below that ts go. */
    void dropTable(long tableId, long dropTs);

    void addTable(TableInfo table, long startTs);
  }

  /** Events answered recently: a late WAITING for one is answered at once and never re-opens it. */
  private static final int REMEMBERED_DONE = 4096;
  private static final long NEVER = Long.MIN_VALUE / 2;

  private record Key(long blockTs, List<Long> tables) {}

  /**
   * One pending event. Its dispatchers (waiting at it, or told to pass it and not yet past) are also indexed
   * in {@link #eventsOf}: a status concerns only the events its dispatcher is part of, and with thousands of
   * spans blocked at once, each walking every earlier event on every resend cost seconds of the context.
   */
  private final class Event {
    final Key key;
    final BlockState state;
    private final Set<DispatcherKey> waiting = new HashSet<>();
    boolean writerDone;
    long writeSentAt = NEVER;
    private final Map<DispatcherKey, NodeId> passPending = new LinkedHashMap<>();
    long passSentAt = NEVER;

    Event(Key key, BlockState state) {
      this.key = key;
      this.state = state;
    }

    void waiting(DispatcherKey id) {
      waiting.add(id);
      join(id);
    }

    void passPending(DispatcherKey id, NodeId node) {
      passPending.put(id, node);
      join(id);
    }

    /** {@code id} is past this event: neither waiting nor to be told to pass any more. */
    void leave(DispatcherKey id) {
      waiting.remove(id);
      passPending.remove(id);
      Set<Event> of = eventsOf.get(id);
      if (of != null && of.remove(this) && of.isEmpty()) {
        eventsOf.remove(id);
      }
    }

    /** Decided and answered: it leaves the index with every dispatcher still in it. */
    void forget() {
      for (DispatcherKey id : List.copyOf(members())) {
        leave(id);
      }
    }

    private Set<DispatcherKey> members() {
      Set<DispatcherKey> all = new HashSet<>(waiting);
      all.addAll(passPending.keySet());
      return all;
    }

    private void join(DispatcherKey id) {
      eventsOf.computeIfAbsent(id, k -> new HashSet<>()).add(this);
    }

    List<Long> passTables() {
      Set<Long> dropped = new HashSet<>(state.getNeedDroppedTables().getTableIdsList());
      return key.tables().stream().filter(t -> t != TableSpans.DDL_TABLE_ID && !dropped.contains(t)).toList();
    }
  }

  /** The table trigger's span is table 0; every DDL blocks it. */

  private final SpanController spans;
  private final SchemaChanges changes;
  private final long resendMillis;
  private final Map<Key, Event> events = new TreeMap<>((a, b) -> a.blockTs() != b.blockTs()
      ? Long.compareUnsigned(a.blockTs(), b.blockTs()) : a.tables().toString().compareTo(b.tables().toString()));
  private final Map<Key, Event> answered = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Event> eldest) {
      return size() > REMEMBERED_DONE;
    }
  };
  /** The pending events each dispatcher is part of (see {@link Event}). */
  private final Map<DispatcherKey, Set<Event>> eventsOf = new HashMap<>();
  private DispatcherKey trigger;
  private NodeId triggerNode;

  public Barrier(SpanController spans, SchemaChanges changes, long resendMillis) {
    this.spans = spans;
    this.changes = changes;
    this.resendMillis = resendMillis;
  }

  /** The table trigger dispatcher, the single DDL writer; null while none is set up. */
  public void trigger(DispatcherKey trigger, NodeId node) {
    this.trigger = trigger;
    this.triggerNode = node;
  }

  public int pending() {
    return events.size();
  }

  /**
   * A dispatcher's block state (a block status, or a heartbeat/snapshot status) with its checkpoint.
   * Immediate answers (to late reports of events already decided) go into {@code out}.
   */
  public void onBlockState(DispatcherKey id, NodeId node, BlockState state, long checkpointTs, ActionBatch out) {
    if (id.equals(trigger)) {
      // The trigger ends events it was never seen waiting at, too (its checkpoint passed them). Events go
      // by block ts, and a position that passed one passed every earlier one: stop at the first not passed.
      for (Event e : events.values()) {
        if (!passed(state, checkpointTs, e.key.blockTs())) {
          break;
        }
        done(e, id);
      }
    } else {
      Set<Event> of = eventsOf.get(id);
      if (of != null) {
        for (Event e : List.copyOf(of)) {
          if (passed(state, checkpointTs, e.key.blockTs())) {
            done(e, id);
          }
        }
      }
    }
    if (!state.getBlocked() || state.getStage() == BlockStage.BLOCK_STAGE_NONE) {
      return;
    }
    Key key = keyOf(state);
    if (state.getStage() == BlockStage.BLOCK_STAGE_DONE) {
      Event e = events.get(key);
      if (e != null) {
        done(e, id);
      }
      return;
    }
    Event late = answered.get(key);
    if (late != null && !events.containsKey(key)) {
      // Decided already (e.g. a span re-created below the ts replays the DDL): answer, never re-open it.
      out.add(node, id.equals(trigger) ? write(late) : pass(late));
      return;
    }
    Event e = events.computeIfAbsent(key, k -> new Event(k, state));
    e.waiting(id);
    if (e.writerDone && !id.equals(trigger)) {
      e.passPending(id, node);
      e.passSentAt = NEVER;
    }
  }

  /** Sends what is due and advances events whose writer finished; call every round. */
  public void tick(long nowMillis, ActionBatch out) {
    for (Event e : List.copyOf(events.values())) {
      if (!e.writerDone) {
        if (trigger != null && ready(e) && nowMillis - e.writeSentAt >= resendMillis) {
          out.add(triggerNode, write(e));
          e.writeSentAt = nowMillis;
        }
        continue;
      }
      // Spans of a passed table may have moved: each pending dispatcher that no longer replicates anything is done.
      List.copyOf(e.passPending.keySet()).stream().filter(d -> spans.byDispatcher(d) == null).forEach(e::leave);
      if (e.passPending.isEmpty()) {
        events.remove(e.key);
        e.forget();
        answered.put(e.key, e);
        continue;
      }
      if (nowMillis - e.passSentAt >= resendMillis) {
        new LinkedHashSet<>(e.passPending.values()).forEach(n -> out.add(n, pass(e)));
        e.passSentAt = nowMillis;
      }
    }
  }

  /** The changefeed checkpoint stays below every DDL not yet written. */
  public long checkpointFloor() {
    long floor = Long.MAX_VALUE;
    for (Event e : events.values()) {
      if (!e.writerDone) {
        floor = Math.min(floor, e.key.blockTs() - 1);
      }
    }
    return floor;
  }

  /** Pending events as {@code ts:tables:phase}, for logs and tests. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    events.values().forEach(e -> out.add(e.key.blockTs() + ":" + e.key.tables() + ":" + (e.writerDone ? "passing" : ready(e) ? "writing" : "waiting")));
    return out;
  }

  private boolean ready(Event e) {
    if (!e.waiting.contains(trigger)) {
      return false;
    }
    for (long table : e.key.tables()) {
      if (table == TableSpans.DDL_TABLE_ID) {
        continue;
      }
      for (TableSpan s : spans.ofTable(table)) {
        SpanReplication r = spans.get(s);
        // Past the event (even with no dispatcher now) it never waits here; below it, it must be waiting.
        if (!passedEarlier(e, r) && (r.dispatcher() == null || !e.waiting.contains(r.dispatcher()))) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * A span already at or past the ts of a DDL of its table never waits there again, and the event does
   * not wait for it: a TRUNCATE or ADD COLUMN it passed under an earlier maintainer (which let it pass only
   * once the DDL was written), or, for a DROP, a span of a later incarnation of the table (a span never
   * passes its own table's DROP: it is removed there). A trigger replaying DDLs from an older checkpoint
   * after a failover meets both; waiting for them would keep the event from ever being ready and the
   * checkpoint below it for good. The rewrite of the DDL is idempotent.
   */
  private static boolean passedEarlier(Event e, SpanReplication r) {
    return Long.compareUnsigned(r.checkpointTs(), e.key.blockTs()) >= 0;
  }

  private void done(Event e, DispatcherKey id) {
    if (id.equals(trigger) && !e.writerDone) {
      writerDone(e);
    }
    e.leave(id);
  }

  /** The DDL is written: the schema change first, then everything else blocked on it may pass. */
  private void writerDone(Event e) {
    e.writerDone = true;
    for (long dropped : e.state.getNeedDroppedTables().getTableIdsList()) {
      changes.dropTable(dropped, e.key.blockTs());
    }
    for (TableInfo added : e.state.getNeedAddedTablesList()) {
      changes.addTable(added, e.key.blockTs());
    }
    for (long table : e.passTables()) {
      for (TableSpan s : spans.ofTable(table)) {
        SpanReplication r = spans.get(s);
        if (r.dispatcher() != null) {
          e.passPending(r.dispatcher(), r.node());
        }
      }
    }
  }

  private static boolean passed(BlockState state, long checkpointTs, long blockTs) {
    if (Long.compareUnsigned(checkpointTs, blockTs) >= 0) {
      return true;
    }
    return state.getBlocked() && (Long.compareUnsigned(state.getBlockTs(), blockTs) > 0
        || (state.getBlockTs() == blockTs && state.getStage() == BlockStage.BLOCK_STAGE_DONE));
  }

  private static Key keyOf(BlockState state) {
    List<Long> tables = new ArrayList<>(new TreeSet<>(state.getBlockedTables().getTableIdsList()));
    return new Key(state.getBlockTs(), List.copyOf(tables));
  }

  private static DispatcherAction write(Event e) {
    return action(BarrierAction.BARRIER_ACTION_WRITE, e.key.blockTs(), List.of(TableSpans.DDL_TABLE_ID));
  }

  private static DispatcherAction pass(Event e) {
    return action(BarrierAction.BARRIER_ACTION_PASS, e.key.blockTs(), e.passTables());
  }

  private static DispatcherAction action(BarrierAction action, long ts, List<Long> tables) {
    return DispatcherAction.newBuilder().setAction(action).setCommitTs(ts)
        .setInfluenced(InfluencedTables.newBuilder().setType(InfluenceType.INFLUENCE_TYPE_NORMAL).addAllTableIds(tables)).build();
  }
}
