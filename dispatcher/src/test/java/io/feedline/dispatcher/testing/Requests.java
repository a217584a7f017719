package io.feedline.dispatcher.testing;

import com.google.protobuf.ByteString;
import io.feedline.common.id.DispatcherKey;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MergeDispatcherRequest;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import java.util.Arrays;

/** Builders of the maintainer's dispatcher-side requests, as the tests send them. */
public final class Requests {

  /** A rate-bound datagen: on a manual clock, dispatchers make progress only when the test advances time. */
  public static final String SOURCE = "datagen://?tables=4&seed=7&rate=1000";
  public static final String SINK = "blackhole://";

  private Requests() {}

  public static DispatcherKey id(long n) {
    return new DispatcherKey(0xD15L, n);
  }

  public static TableSpan table(long tableId) {
    return TableSpan.newBuilder().setTableId(tableId).build();
  }

  public static TableSpan span(long tableId, long fromKey, long toKey) {
    TableSpan.Builder b = TableSpan.newBuilder().setTableId(tableId);
    if (fromKey > 0) {
      b.setStartKey(DatagenModel.keyBytes(fromKey));
    }
    if (toKey >= 0) {
      b.setEndKey(DatagenModel.keyBytes(toKey));
    }
    return b.build();
  }

  public static byte[] config(String source, String sink) {
    return ChangefeedInfo.newBuilder().setId("cf").setSourceUri(source).setSinkUri(sink).build().toByteArray();
  }

  public static MaintainerBootstrapRequest bootstrap(String cf, long epoch) {
    return bootstrap(cf, epoch, SINK, null, null);
  }

  public static MaintainerBootstrapRequest bootstrap(String cf, long epoch, String sink) {
    return bootstrap(cf, epoch, sink, null, null);
  }

  /** To the maintainer's own node: with the table trigger ids ({@code null} = none). */
  public static MaintainerBootstrapRequest bootstrap(String cf, long epoch, String sink, DispatcherKey eventTrigger, DispatcherKey redoTrigger) {
    MaintainerBootstrapRequest.Builder b = MaintainerBootstrapRequest.newBuilder().setChangefeedId(cf).setEpoch(epoch)
        .setAcceptsPartialHeartbeats(true)
        .setConfig(ByteString.copyFrom(config(SOURCE, sink))).setStartTs(0);
    if (eventTrigger != null) {
      b.setTableTriggerEventDispatcherId(eventTrigger.proto());
    }
    if (redoTrigger != null) {
      b.setTableTriggerRedoDispatcherId(redoTrigger.proto());
    }
    return b.build();
  }

  public static MaintainerPostBootstrapRequest postBootstrap(String cf, long epoch, DispatcherKey trigger) {
    return MaintainerPostBootstrapRequest.newBuilder().setChangefeedId(cf).setEpoch(epoch).setTableTriggerEventDispatcherId(trigger.proto()).build();
  }

  public static DispatcherSchedule createItem(DispatcherKey id, TableSpan span, long startTs) {
    return DispatcherSchedule.newBuilder().setId(id.proto()).setSpan(span).setStartTs(startTs)
        .setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).setOperatorType(OperatorType.OPERATOR_TYPE_ADD).build();
  }

  public static DispatcherSchedule removeItem(DispatcherKey id) {
    return DispatcherSchedule.newBuilder().setId(id.proto()).setAction(ScheduleAction.SCHEDULE_ACTION_REMOVE)
        .setOperatorType(OperatorType.OPERATOR_TYPE_REMOVE).build();
  }

  public static ScheduleDispatcherRequest schedule(String cf, long epoch, DispatcherSchedule... items) {
    return ScheduleDispatcherRequest.newBuilder().setChangefeedId(cf).setEpoch(epoch).addAllItems(Arrays.asList(items)).build();
  }

  public static ScheduleDispatcherRequest create(String cf, long epoch, DispatcherKey id, TableSpan span) {
    return schedule(cf, epoch, createItem(id, span, 0));
  }

  public static ScheduleDispatcherRequest remove(String cf, long epoch, DispatcherKey id) {
    return schedule(cf, epoch, removeItem(id));
  }

  public static MergeDispatcherRequest merge(String cf, long epoch, DispatcherKey merged, DispatcherKey... from) {
    MergeDispatcherRequest.Builder b = MergeDispatcherRequest.newBuilder().setChangefeedId(cf).setEpoch(epoch).setMergedId(merged.proto());
    Arrays.stream(from).forEach(f -> b.addMergedFrom(f.proto()));
    return b.build();
  }

  /** With one barrier action, so an admitted response leaves a trace (a notice). */
  public static HeartbeatResponse heartbeatResponse(String cf, long epoch) {
    return HeartbeatResponse.newBuilder().setChangefeedId(cf).setEpoch(epoch)
        .addActions(DispatcherAction.newBuilder().setAction(BarrierAction.BARRIER_ACTION_PASS).setCommitTs(10)).build();
  }

  public static MaintainerCloseRequest close(String cf, long epoch) {
    return MaintainerCloseRequest.newBuilder().setChangefeedId(cf).setEpoch(epoch).build();
  }
}
