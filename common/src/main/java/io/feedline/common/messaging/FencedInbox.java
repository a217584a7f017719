package io.feedline.common.messaging;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Internal;
import com.google.protobuf.Message;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The one door of a receiver for the control messages it fences per changefeed (Flink's FencedRpcEndpoint):
 * each type is registered with its rule (DESIGN §3: bootstrap, control, close); admission reads the message's
 * {@link io.feedline.proto.FenceToken} and the changefeed's current {@link Fence}, counts and logs every rejection
 * through {@link FenceRejections}, and only then runs the type's handler, which never sees a rejected message.
 * Admission only decides: a handler that acts on a message keeps {@link Fence.Decision#next()} itself, so a
 * takeover or a close moves the fence only if it goes on. Runs on its owner's context; the owner serializes a
 * changefeed's messages (admission reads the fence the previous one left).
 *
 * @param <R> what a handler returns (the orchestrator's: a future completing once the message is dealt with)
 */
public final class FencedInbox<R> {

  /** Which rule of DESIGN §3 a message type is admitted by. */
  public enum Rule {
    /** A maintainer takes (or keeps) ownership: a newer epoch takes over. */
    BOOTSTRAP {
      @Override
      Fence.Decision admit(Fence fence, NodeId from, long epoch) {
        return fence.admitBootstrap(from, epoch);
      }
    },
    /** Only the exact current owner at the current epoch. */
    CONTROL {
      @Override
      Fence.Decision admit(Fence fence, NodeId from, long epoch) {
        return fence.admitControl(from, epoch);
      }
    },
    /** The owner, or any newer epoch (closing only removes writers). */
    CLOSE {
      @Override
      Fence.Decision admit(Fence fence, NodeId from, long epoch) {
        return fence.admitClose(from, epoch);
      }
    };

    abstract Fence.Decision admit(Fence fence, NodeId from, long epoch);
  }

  /** An admitted message: the handler acts on it and keeps {@code decision.next()} if it does. */
  public record Admitted<M extends Message>(ChangefeedId changefeed, NodeId from, M payload, long epoch, Fence.Decision decision) {}

  /** A rejected message, for a type whose rejections are answered (an older owner's close is acknowledged). */
  public record Rejected<M extends Message>(ChangefeedId changefeed, NodeId from, M payload, long epoch, Admission admission) {}

  private record Registration<M extends Message, R>(Class<M> type, Rule rule, Function<Admitted<M>, R> handler,
      Function<Rejected<M>, R> onRejected) {

    R deliver(FencedInbox<R> inbox, ChangefeedId changefeed, NodeId from, Message payload, long epoch) {
      M message = type.cast(payload);
      Fence fence = inbox.fences.apply(changefeed);
      Fence.Decision decision = rule.admit(fence, from, epoch);
      if (inbox.rejections.check(decision, changefeed.value(), ControlPayloads.typeOf(payload), from, epoch, fence)) {
        return handler.apply(new Admitted<>(changefeed, from, message, epoch, decision));
      }
      return onRejected == null ? inbox.dropped : onRejected.apply(new Rejected<>(changefeed, from, message, epoch, decision.admission()));
    }
  }

  private final Map<Class<?>, Registration<?, R>> registrations;
  private final Function<ChangefeedId, Fence> fences;
  private final FenceRejections rejections;
  private final R dropped;

  private FencedInbox(Builder<R> builder, Function<ChangefeedId, Fence> fences, R dropped) {
    this.registrations = Map.copyOf(builder.registrations);
    this.fences = fences;
    this.dropped = dropped;
    this.rejections = new FenceRejections(builder.role, builder.metrics,
        builder.registrations.keySet().stream().map(FencedInbox::descriptor).toList());
  }

  @SuppressWarnings("unchecked")
  private static Descriptor descriptor(Class<?> type) {
    return Internal.getDefaultInstance((Class<? extends Message>) type).getDescriptorForType();
  }

  public static <R> Builder<R> builder(String role, MeterRegistry metrics) {
    return new Builder<>(role, metrics);
  }

  /** Whether this inbox admits messages of {@code payload}'s type. */
  public boolean handles(Message payload) {
    return registrations.containsKey(payload.getClass());
  }

  /**
   * Admits {@code in}, a message about {@code changefeed} (its token's, already validated), by its type's rule:
   * its handler's result, or its rejection hook's, or the dropped value.
   */
  public R deliver(ChangefeedId changefeed, Inbound in) {
    Registration<?, R> registration = registrations.get(in.payload().getClass());
    if (registration == null) {
      throw new IllegalArgumentException("no rule for " + in.type() + "; ask handles() first");
    }
    return registration.deliver(this, changefeed, in.from(), in.payload(), in.fence().getEpoch());
  }

  /** Registers each fenced type with its rule and handler; {@link #build} makes the inbox. */
  public static final class Builder<R> {
    private final String role;
    private final MeterRegistry metrics;
    private final Map<Class<?>, Registration<?, R>> registrations = new LinkedHashMap<>();

    private Builder(String role, MeterRegistry metrics) {
      this.role = role;
      this.metrics = metrics;
    }

    public <M extends Message> Builder<R> on(Class<M> type, Rule rule, Function<Admitted<M>, R> handler) {
      return on(type, rule, handler, null);
    }

    /** As {@link #on(Class, Rule, Function)}, with a hook that answers a rejected message (after it was counted). */
    public <M extends Message> Builder<R> on(Class<M> type, Rule rule, Function<Admitted<M>, R> handler, Function<Rejected<M>, R> onRejected) {
      if (registrations.putIfAbsent(type, new Registration<>(type, rule, handler, onRejected)) != null) {
        throw new IllegalArgumentException(type.getSimpleName() + " has a rule already");
      }
      return this;
    }

    /**
     * The inbox over {@code fences} (the receiver's current fence of a changefeed, {@link Fence#INITIAL} for one it
     * never heard of); {@code dropped} is what delivering a rejected message without a hook returns.
     */
    public FencedInbox<R> build(Function<ChangefeedId, Fence> fences, R dropped) {
      return new FencedInbox<>(this, fences, dropped);
    }
  }
}
