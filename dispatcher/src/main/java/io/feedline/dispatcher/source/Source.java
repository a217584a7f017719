package io.feedline.dispatcher.source;

import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.schema.TableSchemas;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import java.util.List;

/**
 * An upstream of change events. One instance per dispatcher manager (changefeed on a node), shared by
 * its dispatchers; called on the changefeed's data lane, except {@link #tablesAt}, which the manager asks
 * from its control context and which must therefore not block and be thread-safe. As {@link TableSchemas} it
 * tells its changefeed's sink how each table is defined at a position.
 */
public interface Source extends TableSchemas {

  /**
   * Subscribes to {@code span} from {@code startTs}, exclusive: the subscription yields the events with a
   * commit ts above {@code startTs}. The table trigger's span ({@link TableSpans#ddlSpan}) yields every DDL
   * event of every table; any other span yields the row changes of its table whose key lies in the span, and the DDLs of
   * its table except CREATE TABLE (a span of a table exists only from the table's create ts on), so it can
   * block at them for the DDL barrier. At most one DDL has a given commit ts, and no row change shares a
   * commit ts with a DDL of its table.
   */
  Future<SourceSubscription> subscribe(TableSpan span, long startTs);

  /**
   * The tables that exist at {@code ts} (created at or before it, not dropped at or before it), each with
   * the commit ts of the CREATE TABLE that began its current incarnation ({@code create_ts}; 0 if that
   * predates what the source knows): a new maintainer creates spans for them, none from below its
   * create ts, and the table trigger reading DDLs from {@code ts} on reports every later change. A source may
   * have to ask its upstream; the future may complete on any thread.
   */
  Future<List<TableInfo>> tablesAt(long ts);

  /** Releases the source; its subscriptions end. */
  Future<Void> close();
}
