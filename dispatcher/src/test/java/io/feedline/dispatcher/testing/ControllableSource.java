package io.feedline.dispatcher.testing;

import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;

/** Wraps a source so that subscribing can be held: a dispatcher stays Initializing until released. */
public final class ControllableSource implements Source {

  private final Source delegate;
  private final List<Runnable> held = new ArrayList<>();
  private boolean holdSubscribe;
  private boolean failSubscribe;

  public ControllableSource(Source delegate) {
    this.delegate = delegate;
  }

  public ControllableSource holdSubscribe() {
    holdSubscribe = true;
    return this;
  }

  public ControllableSource failSubscribe() {
    failSubscribe = true;
    return this;
  }

  public void releaseSubscribe() {
    holdSubscribe = false;
    List.copyOf(held).forEach(Runnable::run);
    held.clear();
  }

  @Override
  public Future<List<TableInfo>> tablesAt(long ts) {
    return delegate.tablesAt(ts);
  }

  @Override
  public Future<TableSchema> schemaAt(long tableId, long ts) {
    return delegate.schemaAt(tableId, ts);
  }

  @Override
  public Future<SourceSubscription> subscribe(TableSpan span, long startTs) {
    if (failSubscribe) {
      return Future.failedFuture(new IllegalStateException("upstream unreachable"));
    }
    if (!holdSubscribe) {
      return delegate.subscribe(span, startTs);
    }
    Promise<SourceSubscription> p = Promise.promise();
    held.add(() -> delegate.subscribe(span, startTs).onComplete(p));
    return p.future();
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }
}
