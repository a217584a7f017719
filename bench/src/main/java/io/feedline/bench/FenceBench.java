package io.feedline.bench;

import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlEnvelopeCodec;
import io.feedline.proto.ControlEnvelope;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What fencing costs a receiver per control message (DESIGN §3): the rule check alone, accepted and
 * rejected (a rejection also counts a metric and consults the once-per-key log), the per-changefeed lookup
 * a receiver does first, and — for scale — decoding the envelope the message arrived in.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FenceBench {

  /** How many changefeeds the receiver holds fences for: the lookup is part of every check. */
  @Param({"10000"})
  public int changefeeds;

  private final NodeId owner = NodeId.of("node-a");
  private final NodeId stranger = NodeId.of("node-b");
  private final long epoch = 1_000_000L;
  private final Map<ChangefeedId, Fence> fences = new HashMap<>();
  private ChangefeedId[] ids;
  private FenceRejections rejections;
  private Fence fence;
  private Buffer wire;
  private final ControlEnvelopeCodec codec = new ControlEnvelopeCodec();
  private final SplittableRandom random = new SplittableRandom(7);

  @Setup(Level.Trial)
  public void setUp() {
    rejections = new FenceRejections("bench", new SimpleMeterRegistry(), List.of());
    ids = new ChangefeedId[changefeeds];
    for (int i = 0; i < changefeeds; i++) {
      ids[i] = ChangefeedId.of("cf-" + i);
      fences.put(ids[i], Fence.ownedBy(owner, epoch));
    }
    fence = Fence.ownedBy(owner, epoch);
    ScheduleDispatcherRequest schedule = ScheduleDispatcherRequest.newBuilder()
        .setChangefeedId("cf-1").setEpoch(epoch)
        .addItems(DispatcherSchedule.newBuilder().setSpan(TableSpan.newBuilder().setTableId(42)).setStartTs(1L << 40))
        .build();
    wire = Buffer.buffer();
    codec.encodeToWire(wire, ControlEnvelope.newBuilder().setFromNode(owner.value()).setScheduleDispatcherRequest(schedule).build());
  }

  @Benchmark
  public boolean admitCurrentOwner() {
    Fence.Decision decision = fence.admitControl(owner, epoch);
    return rejections.check(decision, "cf-1", "schedule", owner, epoch, fence);
  }

  @Benchmark
  public boolean rejectStaleEpoch() {
    Fence.Decision decision = fence.admitControl(owner, epoch - 1);
    return rejections.check(decision, "cf-1", "schedule", owner, epoch - 1, fence);
  }

  @Benchmark
  public boolean rejectWrongOwner() {
    Fence.Decision decision = fence.admitControl(stranger, epoch);
    return rejections.check(decision, "cf-1", "schedule", stranger, epoch, fence);
  }

  @Benchmark
  public boolean lookupThenAdmit() {
    ChangefeedId id = ids[random.nextInt(ids.length)];
    Fence current = fences.getOrDefault(id, Fence.INITIAL);
    return rejections.check(current.admitControl(owner, epoch), id.value(), "schedule", owner, epoch, current);
  }

  @Benchmark
  public boolean decodeLookupThenAdmit() {
    ControlEnvelope envelope = (ControlEnvelope) codec.decodeFromWire(0, wire);
    ChangefeedId id = ChangefeedId.of(envelope.getScheduleDispatcherRequest().getChangefeedId());
    Fence current = fences.getOrDefault(id, Fence.INITIAL);
    NodeId from = NodeId.of(envelope.getFromNode());
    long senderEpoch = envelope.getScheduleDispatcherRequest().getEpoch();
    return rejections.check(current.admitControl(from, senderEpoch), id.value(), "schedule", from, senderEpoch, current);
  }
}
