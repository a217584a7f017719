package io.feedline.postgresql.sink;

import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.TableSchemas;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.dispatcher.sink.WriteGate;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.feedline.postgresql.sql.SqlText;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code postgresql://...}: each span batch is one transaction (DESIGN §7) that, pipelined on one pooled
 * connection, reads the changefeed's epoch {@code FOR SHARE}, claims the span's fencing row, applies the
 * rows as upserts and deletes by primary key (or the trigger's DDL), records the span's checkpoint, and
 * commits only if both fences admitted it (see {@link FencingTables}). A refused batch rolls back and fails
 * with {@link FencedWriteException}: the database itself refuses a zombie writer.
 *
 * <p>Before its transaction a batch is planned: the tables it touches are looked up (downstream, and
 * upstream through {@link TableSchemas} for tables to create), and on a dispatcher's first batch the
 * checkpoint the database records for its key range is read ({@link FencingTables#recorded}), so a replay
 * from an older checkpoint skips what is already applied, and so is the table's last applied TRUNCATE or DROP
 * ({@link FencingTables#cleared}), so a replay never brings back the rows it wiped. Nothing blocks: the Vert.x client runs the
 * connections on event loops and completes on the caller's context.
 */
public final class PostgresSink implements Sink {

  /** Dispatchers whose applied checkpoint is remembered: one per span this node wrote recently. */
  private static final int REMEMBERED_WRITERS = 65_536;

  private final Pool pool;
  private final PostgresEndpoint endpoint;
  private final String changefeed;
  private final TableSchemas upstream;
  private final Counter fencedWrites;
  private final WriteGate gate;
  /** Downstream tables by upstream table id, as last seen or created (only once the CREATE committed). */
  private final Map<Long, DownstreamTable> tables = new ConcurrentHashMap<>();
  /** Per writer (dispatcher and span), the checkpoint the database records for its span: what a replay skips. */
  private final Map<String, Long> applied = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > REMEMBERED_WRITERS;
    }
  };
  /** The highest epoch this sink has raised the changefeed's row to. */
  private long raisedEpoch = -1;

  PostgresSink(Pool pool, PostgresEndpoint endpoint, String changefeed, TableSchemas upstream, MeterRegistry metrics) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.changefeed = changefeed;
    this.upstream = upstream;
    this.fencedWrites = Counter.builder("feedline.sink.fenced_writes")
        .description("Sink writes the downstream refused: the writer's epoch was stale")
        .tag("sink", "postgresql").tag("changefeed", changefeed).register(metrics);
    this.gate = new WriteGate("postgresql sink " + endpoint, pool::close);
  }

  @Override
  public Future<Void> write(SinkBatch batch) {
    return gate.write(() -> writeFenced(batch));
  }

  @Override
  public Future<Void> close() {
    return gate.close();
  }

  private Future<Void> writeFenced(SinkBatch batch) {
    for (long value : new long[] {batch.epoch(), batch.fromTs(), batch.resolvedTs()}) {
      if (value < 0) {
        return Future.failedFuture(new IllegalArgumentException("epoch " + Long.toUnsignedString(batch.epoch()) + ", from ts "
            + Long.toUnsignedString(batch.fromTs()) + ", resolved ts " + Long.toUnsignedString(batch.resolvedTs())
            + ": PostgreSQL stores them as bigint, and one is at or above 2^63"));
      }
    }
    String writer = batch.dispatcher() + "/" + TableSpans.format(batch.span()) + (batch.redo() ? "/redo" : "");
    return raiseEpoch(batch.epoch())
        .compose(v -> skipThrough(writer, batch))
        .compose(through -> plan(batch, through).compose(plan -> transaction(batch, through, plan)))
        .onSuccess(created -> {
          tables.putAll(created);
          remember(writer, batch.resolvedTs());
        })
        .<Void>mapEmpty()
        .onFailure(err -> {
          if (err instanceof FencedWriteException) {
            fencedWrites.increment();
          } else {
            // The tables may not be as planned (another node created or altered one): look them up again next time.
            batch.events().forEach(e -> tables.remove(e.tableId()));
          }
        });
  }

  private Future<Void> raiseEpoch(long epoch) {
    synchronized (applied) {
      if (epoch <= raisedEpoch) {
        return Future.succeededFuture();
      }
    }
    return run(pool, FencingTables.raise(changefeed, epoch, endpoint.schema())).map(rows -> {
      synchronized (applied) {
        raisedEpoch = Math.max(raisedEpoch, epoch);
      }
      return null;
    });
  }

  private Future<Long> skipThrough(String writer, SinkBatch batch) {
    synchronized (applied) {
      Long known = applied.get(writer);
      if (known != null) {
        return Future.succeededFuture(known);
      }
    }
    Future<RowSet<Row>> shapes = run(pool, FencingTables.recorded(changefeed, batch));
    Future<RowSet<Row>> cleared = run(pool, FencingTables.cleared(changefeed, batch.span().getTableId()));
    // Read at the writer's first batch: a TRUNCATE or DROP applied later was applied after this writer wrote everything
    // below it (the barrier waits for every span of the table), so nothing it writes afterwards lies below it.
    return Future.all(shapes, cleared).map(both -> {
      long recorded = FencingTables.skipThrough(batch, shapes.result(), cleared.result());
      // Remembered at once, not only after this batch: a first batch entirely below it (all skipped) must not
      // leave the next batch to re-apply, over newer rows, what lies between its end and the recorded checkpoint.
      remember(writer, recorded);
      return recorded;
    });
  }

  private void remember(String writer, long checkpointTs) {
    synchronized (applied) {
      applied.merge(writer, checkpointTs, Math::max);
    }
  }

  /** What a batch does between its fence and its checkpoint: statements, and the tables they create. */
  private record Plan(List<Statement> statements, Map<Long, DownstreamTable> created) {

    static Plan empty() {
      return new Plan(new ArrayList<>(), new LinkedHashMap<>());
    }

    Plan then(List<Statement> more) {
      statements.addAll(more);
      return this;
    }

    Plan add(Target target, List<Statement> more) {
      statements.addAll(target.creates());
      if (!target.creates().isEmpty()) {
        created.put(target.tableId(), target.table());
      }
      statements.addAll(more);
      return this;
    }
  }

  /** The plan of a batch; what lies at or below {@code through} is skipped. */
  private Future<Plan> plan(SinkBatch batch, long through) {
    List<ChangeEvent> events = new ArrayList<>();
    for (ChangeEvent e : batch.events()) {
      if (e.commitTs() > through) {
        events.add(e);
      }
    }
    if (batch.redo() || events.isEmpty()) {
      return Future.succeededFuture(Plan.empty()); // PostgreSQL is durable itself: a redo span only records its checkpoint
    }
    Future<Plan> planned = Future.succeededFuture(Plan.empty());
    int i = 0;
    while (i < events.size()) {
      if (events.get(i) instanceof DdlEvent ddl) {
        planned = planned.compose(plan -> ddl(ddl, plan));
        i++;
        continue;
      }
      // A run of row changes up to the next DDL, per table in order of first appearance.
      Map<Long, List<RowChange>> byTable = new LinkedHashMap<>();
      while (i < events.size() && events.get(i) instanceof RowChange row) {
        byTable.computeIfAbsent(row.tableId(), t -> new ArrayList<>()).add(row);
        i++;
      }
      for (Map.Entry<Long, List<RowChange>> e : byTable.entrySet()) {
        planned = planned.compose(plan -> rows(e.getKey(), e.getValue(), plan));
      }
    }
    return planned;
  }

  private Future<Plan> rows(long tableId, List<RowChange> changes, Plan plan) {
    long firstTs = changes.get(0).commitTs();
    return target(tableId, firstTs, plan).compose(target -> {
      try {
        return Future.succeededFuture(plan.add(target, RowWrites.of(target.table(), changes)));
      } catch (RowWrites.UnknownColumnException stale) {
        // Another node's trigger may have added the column since this node looked: look once more.
        tables.remove(tableId);
        return target(tableId, firstTs, plan).map(fresh -> {
          try {
            return plan.add(fresh, RowWrites.of(fresh.table(), changes));
          } catch (RowWrites.UnknownColumnException still) {
            throw new UnwritableSchemaException(still.getMessage());
          }
        });
      }
    });
  }

  /**
   * A downstream table to write, and the statements that create it first when it is missing (under a lock
   * on its name, so that nodes creating it at once do not collide).
   */
  private record Target(long tableId, DownstreamTable table, List<Statement> creates) {}

  /** What the upstream defines at a position, and what is downstream under that name (null: nothing). */
  private record Definitions(DownstreamTable wanted, DownstreamTable existing) {}

  private Future<Definitions> definitions(long tableId, long ts) {
    return upstream.schemaAt(tableId, ts).compose(schema -> {
      DownstreamTable wanted = DownstreamTable.of(endpoint.schema(), schema);
      return DownstreamTable.lookup(pool, endpoint.schema(), schema.name()).map(existing -> new Definitions(wanted, existing));
    });
  }

  /**
   * The downstream table of upstream {@code tableId}: cached, created earlier in this batch, looked up, or
   * planned for creation from the upstream's definition at {@code ts} (a table that existed before the
   * changefeed started has no CREATE TABLE event to create it from). An existing table that lacks columns
   * of that definition gets them; one whose key or column types do not fit is an error.
   */
  private Future<Target> target(long tableId, long ts, Plan plan) {
    DownstreamTable known = plan.created().getOrDefault(tableId, tables.get(tableId));
    if (known != null) {
      return Future.succeededFuture(new Target(tableId, known, List.of()));
    }
    return definitions(tableId, ts).map(d -> {
      if (d.existing() == null) {
        return new Target(tableId, d.wanted(), creating(d.wanted()));
      }
      String misfit = d.existing().misfit(d.wanted());
      if (misfit != null) {
        throw new UnwritableSchemaException("table " + d.wanted().name() + " cannot be replicated: " + misfit);
      }
      Map<String, String> missing = d.existing().missingColumns(d.wanted());
      if (!missing.isEmpty()) {
        // Columns the upstream has and this table lacks: an ADD COLUMN, or a source whose column changes reach
        // the sink only with the rows that carry them. Added in the batch's transaction, cached once committed.
        return new Target(tableId, d.existing().withColumns(missing), d.existing().addColumns(missing));
      }
      tables.put(tableId, d.existing());
      return new Target(tableId, d.existing(), List.of());
    });
  }

  private static List<Statement> creating(DownstreamTable table) {
    return List.of(new Statement("SELECT pg_advisory_xact_lock(hashtext($1))", Tuple.of(table.qualifiedName())),
        Statement.of(table.createStatement()));
  }

  /** The statements of one DDL (PostgreSQL DDL is transactional: it commits with the checkpoint or not at all). */
  private Future<Plan> ddl(DdlEvent ddl, Plan plan) {
    long id = ddl.tableId();
    tables.remove(id);
    plan.created().remove(id);
    return switch (ddl.type()) {
      case DROP_TABLE -> Future.succeededFuture(plan.then(List.of(Statement.of("DROP TABLE IF EXISTS "
          + SqlText.qualified(endpoint.schema(), ddl.tableName())), FencingTables.markCleared(changefeed, id, ddl.commitTs()))));
      case CREATE_TABLE -> target(id, ddl.commitTs(), plan).map(t -> plan.add(t, List.of()));
      case TRUNCATE_TABLE -> target(id, ddl.commitTs(), plan)
          .map(t -> plan.add(t, List.of(Statement.of("TRUNCATE TABLE " + t.table().qualifiedName()),
              FencingTables.markCleared(changefeed, id, ddl.commitTs()))));
      case ADD_COLUMN -> target(id, ddl.commitTs(), plan).map(t -> plan.add(t, List.of()));
      case DROP_COLUMN -> target(id, ddl.commitTs(), plan).map(t -> {
        if (ddl.column() == null) {
          throw new UnwritableSchemaException("a DROP COLUMN of table " + ddl.tableName() + " that names no column: " + ddl.query());
        }
        tables.remove(id); // looked up again once the drop committed
        return plan.add(t, t.table().dropColumns(List.of(ddl.column())));
      });
    };
  }

  /**
   * One transaction, pipelined: BEGIN, both fences, the other shapes of the span let go of what this writer
   * re-applies, the statements, the checkpoint; then COMMIT if both fences admitted the batch, every
   * statement succeeded and the sink is not closing, else ROLLBACK. A connection lost around the COMMIT
   * leaves the outcome unknown: the write fails, and the replay that follows is harmless.
   *
   * @return the tables the batch created, once committed
   */
  private Future<Map<Long, DownstreamTable>> transaction(SinkBatch batch, long through, Plan plan) {
    if (gate.closing()) {
      return Future.failedFuture(gate.closed());
    }
    return pool.withConnection(conn -> {
      List<Future<RowSet<Row>>> steps = new ArrayList<>();
      steps.add(conn.query("BEGIN").execute());
      Future<RowSet<Row>> changefeedEpoch = run(conn, FencingTables.changefeedFence(changefeed));
      Future<RowSet<Row>> claim = run(conn, FencingTables.claimSpan(changefeed, batch));
      steps.add(changefeedEpoch);
      steps.add(claim);
      steps.add(run(conn, FencingTables.releaseOtherShapes(changefeed, batch, Math.max(through, batch.fromTs()))));
      for (Statement s : plan.statements()) {
        steps.add(run(conn, s));
      }
      steps.add(run(conn, FencingTables.recordCheckpoint(changefeed, batch)));
      return Future.join(steps).transform(all -> {
        Refusal refusal = all.succeeded() ? refusal(batch, changefeedEpoch.result(), claim.result()) : null;
        // A close (the node's self-fence) stops a batch still in flight before its COMMIT.
        if (all.succeeded() && refusal == null && !gate.closing()) {
          return conn.query("COMMIT").execute().map(done -> plan.created());
        }
        Future<Void> rolledBack = conn.query("ROLLBACK").execute().<Void>mapEmpty().recover(ignored -> Future.succeededFuture());
        if (refusal != null) {
          return rolledBack.compose(v -> fenced(conn, batch, refusal));
        }
        Throwable cause = all.succeeded() ? gate.closed() : firstFailure(steps);
        return rolledBack.compose(v -> Future.failedFuture(cause));
      });
    });
  }

  private static Future<RowSet<Row>> run(SqlClient client, Statement s) {
    return client.preparedQuery(s.sql()).execute(s.params());
  }

  /** Which token refused a batch: the changefeed's (at {@code epoch}) or the span's. */
  private record Refusal(boolean byChangefeed, long epoch) {}

  /** Why the fences refused the batch, or null when they admitted it. */
  private static Refusal refusal(SinkBatch batch, RowSet<Row> changefeedEpoch, RowSet<Row> claim) {
    if (changefeedEpoch.size() > 0) {
      long epoch = changefeedEpoch.iterator().next().getLong(0);
      if (epoch > batch.epoch()) {
        return new Refusal(true, epoch);
      }
    }
    return claim.size() == 0 ? new Refusal(false, -1) : null;
  }

  /** The refusal as an exception naming the token that refused it (the span's owner is read for the message). */
  private <T> Future<T> fenced(SqlConnection conn, SinkBatch batch, Refusal refusal) {
    String span = TableSpans.format(batch.span());
    if (refusal.byChangefeed()) {
      return Future.failedFuture(FencedWriteException.byChangefeed(span, batch.epoch(), refusal.epoch()));
    }
    return run(conn, FencingTables.owner(changefeed, batch)).transform(ar -> {
      boolean known = ar.succeeded() && ar.result().size() > 0;
      Row owner = known ? ar.result().iterator().next() : null;
      return Future.failedFuture(new FencedWriteException(span, batch.epoch(), known ? owner.getLong(0) : -1,
          known ? owner.getString(1) : "unknown"));
    });
  }

  private static Throwable firstFailure(List<Future<RowSet<Row>>> steps) {
    for (Future<RowSet<Row>> step : steps) {
      if (step.failed()) {
        return step.cause();
      }
    }
    return new IllegalStateException("the transaction failed without a failed statement");
  }
}
