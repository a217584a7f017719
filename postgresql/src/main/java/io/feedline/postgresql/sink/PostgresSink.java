package io.feedline.postgresql.sink;

import io.feedline.common.fence.Epochs;
import io.feedline.dispatcher.dispatcher.Spans;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.TableSchemas;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.feedline.postgresql.sql.SqlText;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
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
 * span's recorded checkpoint is read, so a replay from an older checkpoint skips what is already applied.
 * Nothing blocks: the Vert.x client runs the connections on event loops and completes on the caller's
 * context.
 */
public final class PostgresSink implements Sink {

  /** Dispatchers whose applied checkpoint is remembered: one per span this node wrote recently. */
  private static final int REMEMBERED_WRITERS = 65_536;

  private final Pool pool;
  private final PostgresEndpoint endpoint;
  private final String changefeed;
  private final TableSchemas upstream;
  private final Counter fencedWrites;
  /** Downstream tables by upstream table id, as last seen or created. */
  private final Map<Long, DownstreamTable> tables = new ConcurrentHashMap<>();
  /** Per writer (dispatcher and span), the checkpoint the database records for its span: what a replay skips. */
  private final Map<String, Long> applied = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > REMEMBERED_WRITERS;
    }
  };
  /** The highest epoch this sink has raised the changefeed's row to. */
  private volatile long raisedEpoch = -1;
  private final Object lock = new Object();
  private int inFlight;
  private Promise<Void> closing;

  PostgresSink(Pool pool, PostgresEndpoint endpoint, String changefeed, TableSchemas upstream, MeterRegistry metrics) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.changefeed = changefeed;
    this.upstream = upstream;
    this.fencedWrites = fencedWrites(metrics, changefeed);
  }

  /** The counter of refused zombie writes, registered (at 0) when a sink opens. */
  static Counter fencedWrites(MeterRegistry metrics, String changefeed) {
    return Counter.builder("feedline.sink.fenced_writes").description("Sink writes the downstream refused: the writer's epoch was stale")
        .tag("sink", "postgresql").tag("changefeed", changefeed).register(metrics);
  }

  @Override
  public Future<Void> write(SinkBatch batch) {
    synchronized (lock) {
      if (closing != null) {
        return Future.failedFuture(new WritePathClosedException("postgresql sink " + endpoint));
      }
      inFlight++;
    }
    Future<Void> written;
    try {
      written = writeFenced(batch);
    } catch (RuntimeException e) {
      written = Future.failedFuture(e);
    }
    return written.andThen(done -> {
      synchronized (lock) {
        inFlight--;
        if (closing != null && inFlight == 0) {
          pool.close().onComplete(closing);
        }
      }
    });
  }

  @Override
  public Future<Void> close() {
    synchronized (lock) {
      if (closing == null) {
        closing = Promise.promise();
        if (inFlight == 0) {
          pool.close().onComplete(closing);
        }
      }
      return closing.future();
    }
  }

  private Future<Void> writeFenced(SinkBatch batch) {
    if (batch.epoch() < 0 || batch.resolvedTs() < 0 || batch.fromTs() < 0) {
      return Future.failedFuture(new IllegalArgumentException("epoch or ts at or above 2^63 cannot be stored: " + Epochs.format(batch.epoch())));
    }
    String writer = batch.dispatcher() + "/" + Spans.format(batch.span()) + (batch.redo() ? "/redo" : "");
    return raiseEpoch(batch.epoch())
        .compose(v -> appliedThrough(writer, batch))
        .compose(through -> plan(batch, through))
        .compose(statements -> transaction(batch, statements))
        .onSuccess(v -> remember(writer, batch.resolvedTs()))
        .onFailure(err -> {
          if (err instanceof FencedWriteException) {
            fencedWrites.increment();
          } else {
            // The tables may not be as planned (a rollback undid a CREATE): look them up again next time.
            batch.events().forEach(e -> tables.remove(e.tableId()));
          }
        });
  }

  private Future<Void> raiseEpoch(long epoch) {
    if (epoch <= raisedEpoch) {
      return Future.succeededFuture();
    }
    Statement raise = FencingTables.raise(changefeed, epoch, endpoint.schema());
    return pool.preparedQuery(raise.sql()).execute(raise.params()).map(rows -> {
      synchronized (lock) {
        raisedEpoch = Math.max(raisedEpoch, epoch);
      }
      return null;
    });
  }

  private Future<Long> appliedThrough(String writer, SinkBatch batch) {
    synchronized (lock) {
      Long known = applied.get(writer);
      if (known != null) {
        return Future.succeededFuture(known);
      }
    }
    Statement read = FencingTables.spanRow(changefeed, batch);
    return pool.preparedQuery(read.sql()).execute(read.params()).map(rows -> {
      long recorded = rows.size() == 0 ? -1L : rows.iterator().next().getLong(0);
      // Remembered at once, not only after this batch: a first batch entirely below it (all skipped) must not
      // leave the next batch to re-apply, over newer rows, what lies between its end and the recorded checkpoint.
      remember(writer, recorded);
      return recorded;
    });
  }

  private void remember(String writer, long checkpointTs) {
    synchronized (lock) {
      applied.merge(writer, checkpointTs, Math::max);
    }
  }

  /** The statements a batch applies between its fence and its checkpoint; what lies at or below {@code through} is skipped. */
  private Future<List<Statement>> plan(SinkBatch batch, long through) {
    List<ChangeEvent> events = new ArrayList<>();
    for (ChangeEvent e : batch.events()) {
      if (e.commitTs() > through) {
        events.add(e);
      }
    }
    if (batch.redo() || events.isEmpty()) {
      return Future.succeededFuture(List.of()); // PostgreSQL is durable itself: a redo span only records its checkpoint
    }
    Future<List<Statement>> planned = Future.succeededFuture(new ArrayList<>());
    int i = 0;
    while (i < events.size()) {
      if (events.get(i) instanceof DdlEvent ddl) {
        planned = planned.compose(out -> ddl(ddl).map(more -> append(out, more)));
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
        planned = planned.compose(out -> rows(e.getKey(), e.getValue()).map(more -> append(out, more)));
      }
    }
    return planned;
  }

  private static List<Statement> append(List<Statement> out, List<Statement> more) {
    out.addAll(more);
    return out;
  }

  private Future<List<Statement>> rows(long tableId, List<RowChange> changes) {
    long firstTs = changes.get(0).commitTs();
    return target(tableId, firstTs).compose(target -> {
      List<Statement> out = new ArrayList<>(target.creates());
      try {
        out.addAll(RowWrites.of(target.table(), changes));
        return Future.succeededFuture(out);
      } catch (RowWrites.UnknownColumnException stale) {
        // Another node's trigger may have added the column since this node looked: look once more.
        tables.remove(tableId);
        return target(tableId, firstTs).map(fresh -> {
          List<Statement> again = new ArrayList<>(fresh.creates());
          try {
            again.addAll(RowWrites.of(fresh.table(), changes));
          } catch (RowWrites.UnknownColumnException still) {
            throw new UnwritableSchemaException(still.getMessage());
          }
          return again;
        });
      }
    });
  }

  /** A downstream table to write, and the statements that create it first when it is missing. */
  private record Target(DownstreamTable table, List<Statement> creates) {}

  /**
   * The downstream table of upstream {@code tableId}: cached, else looked up, else planned for creation
   * from the upstream's definition at {@code ts} (a table that existed before the changefeed started has no
   * CREATE TABLE event to create it from). An existing table that does not fit is an error.
   */
  private Future<Target> target(long tableId, long ts) {
    DownstreamTable known = tables.get(tableId);
    if (known != null) {
      return Future.succeededFuture(new Target(known, List.of()));
    }
    return upstream.schemaAt(tableId, ts).compose(schema -> {
      DownstreamTable wanted = DownstreamTable.of(endpoint.schema(), schema);
      return DownstreamTable.lookup(pool, endpoint.schema(), schema.name()).map(existing -> {
        if (existing == null) {
          tables.put(tableId, wanted);
          return new Target(wanted, List.of(Statement.of(wanted.createStatement())));
        }
        String misfit = existing.misfit(wanted);
        if (misfit != null) {
          throw new UnwritableSchemaException("table " + schema.name() + " cannot be replicated: " + misfit);
        }
        tables.put(tableId, existing);
        return new Target(existing, List.of());
      });
    });
  }

  /** The statements of one DDL (PostgreSQL DDL is transactional: it commits with the checkpoint or not at all). */
  private Future<List<Statement>> ddl(DdlEvent ddl) {
    long id = ddl.tableId();
    tables.remove(id);
    return switch (ddl.type()) {
      case DROP_TABLE -> Future.succeededFuture(List.of(Statement.of("DROP TABLE IF EXISTS " + SqlText.qualified(endpoint.schema(), ddl.tableName()))));
      case CREATE_TABLE -> target(id, ddl.commitTs()).map(Target::creates);
      case TRUNCATE_TABLE -> target(id, ddl.commitTs()).map(t -> {
        List<Statement> out = new ArrayList<>(t.creates());
        out.add(Statement.of("TRUNCATE TABLE " + t.table().qualifiedName()));
        return out;
      });
      case ADD_COLUMN -> upstream.schemaAt(id, ddl.commitTs()).compose(schema -> {
        DownstreamTable wanted = DownstreamTable.of(endpoint.schema(), schema);
        return DownstreamTable.lookup(pool, endpoint.schema(), schema.name()).map(existing -> {
          if (existing == null) {
            return List.of(Statement.of(wanted.createStatement()));
          }
          List<Statement> out = new ArrayList<>();
          wanted.columns().forEach((column, type) -> {
            if (!existing.columns().containsKey(column)) {
              out.add(Statement.of("ALTER TABLE " + wanted.qualifiedName() + " ADD COLUMN IF NOT EXISTS " + SqlText.ident(column) + " " + type));
            }
          });
          return out;
        });
      });
    };
  }

  /**
   * One transaction, pipelined: BEGIN, both fences, the statements, the checkpoint; then COMMIT if both
   * fences admitted the batch and every statement succeeded, else ROLLBACK. A connection lost around the
   * COMMIT leaves the outcome unknown: the write fails, and the replay that follows is harmless.
   */
  private Future<Void> transaction(SinkBatch batch, List<Statement> statements) {
    return pool.getConnection().compose(conn -> {
      List<Future<RowSet<Row>>> steps = new ArrayList<>();
      steps.add(conn.query("BEGIN").execute());
      Future<RowSet<Row>> changefeedEpoch = run(conn, FencingTables.changefeedFence(changefeed));
      Future<RowSet<Row>> claim = run(conn, FencingTables.claimSpan(changefeed, batch));
      steps.add(changefeedEpoch);
      steps.add(claim);
      for (Statement s : statements) {
        steps.add(run(conn, s));
      }
      steps.add(run(conn, FencingTables.recordCheckpoint(changefeed, batch)));
      return Future.join(steps).transform(all -> {
        Refusal refusal = all.succeeded() ? refusal(batch, changefeedEpoch.result(), claim.result()) : null;
        if (all.succeeded() && refusal == null) {
          return conn.query("COMMIT").execute().<Void>mapEmpty();
        }
        Future<Void> rolledBack = conn.query("ROLLBACK").execute().<Void>mapEmpty().recover(ignored -> Future.succeededFuture());
        if (refusal == null) {
          return rolledBack.compose(v -> Future.failedFuture(firstFailure(steps)));
        }
        return rolledBack.compose(v -> fenced(conn, batch, refusal));
      }).eventually(conn::close);
    });
  }

  private static Future<RowSet<Row>> run(SqlConnection conn, Statement s) {
    return conn.preparedQuery(s.sql()).execute(s.params());
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
  private Future<Void> fenced(SqlConnection conn, SinkBatch batch, Refusal refusal) {
    String span = Spans.format(batch.span());
    if (refusal.byChangefeed()) {
      return Future.failedFuture(FencedWriteException.byChangefeed(span, batch.epoch(), refusal.epoch()));
    }
    return run(conn, FencingTables.spanRow(changefeed, batch)).transform(ar -> {
      boolean known = ar.succeeded() && ar.result().size() > 0;
      Row owner = known ? ar.result().iterator().next() : null;
      return Future.failedFuture(new FencedWriteException(span, batch.epoch(), known ? owner.getLong(1) : -1,
          known ? owner.getString(2) : "unknown"));
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
