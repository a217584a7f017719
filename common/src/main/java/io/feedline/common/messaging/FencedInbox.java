package io.feedline.common.messaging;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Internal;
import com.google.protobuf.Message;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.simulation.ProtocolMutation;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The one door of a receiver for the control messages it fences (Flink's FencedRpcEndpoint): each type is registered
 * with the checks it must pass, in order, each a rule of DESIGN §3 (bootstrap, control, close, reply) in a
 * {@link Scope}: the fence of the changefeed the message's {@link io.feedline.proto.FenceToken} names, or a fence the
 * role holds itself (the coordinator a node obeys, the node's incarnation). Admission counts and logs a rejection
 * through {@link FenceRejections} at the first check that fails, consulting no later one, and only then runs the
 * type's handler, which never sees a rejected message. Admission only decides: a handler that acts on a message keeps
 * {@link Fence.Decision#next()} of the last check itself, so a takeover or a close moves the fence only if it goes on.
 * Runs on its owner's context; the owner serializes a changefeed's messages (admission reads the fence the previous
 * one left).
 *
 * @param <R> what a handler returns (the orchestrator's: a future completing once the message is dealt with)
 */
public final class FencedInbox<R> {

  /** The changefeed field of a rejection's log line when the message names no (valid) changefeed. */
  private static final String NO_CHANGEFEED = "-";

  /** Which rule of DESIGN §3 a check admits by. */
  public enum Rule {
    /** A maintainer takes (or keeps) ownership: a newer epoch takes over. */
    BOOTSTRAP((fence, from, epoch) -> fence.admitBootstrap(from, epoch)),
    /** Only the exact current owner at the current epoch. */
    CONTROL((fence, from, epoch) -> fence.admitControl(from, epoch)),
    /** The owner, or any newer epoch (closing only removes writers). */
    CLOSE((fence, from, epoch) -> fence.admitClose(from, epoch)),
    /** Exactly the fence's own epoch, whoever sends it: a reply to its owner, or a command for that incarnation. */
    REPLY((fence, from, epoch) -> fence.admitReply(epoch));

    /** The {@link Fence} method a rule is. */
    private interface Admit {
      Fence.Decision apply(Fence fence, NodeId from, long epoch);
    }

    private final Admit admit;

    Rule(Admit admit) {
      this.admit = admit;
    }

    Fence.Decision admit(Fence fence, NodeId from, long epoch) {
      return admit.apply(fence, from, epoch);
    }
  }

  /**
   * Where a check looks: the fence it holds a message against, and who asks at which epoch, read from the message. A
   * changefeed's scope reads the inbox's fence of the changefeed the token names, at the token's epoch, so a message
   * must name a valid one to pass it; a role's scope has one fence of its own.
   */
  public static final class Scope {

    /** The changefeed the token names, asked by the message's sender. */
    public static final Scope CHANGEFEED = new Scope(null, Inbound::from, in -> in.fence().getEpoch());

    /** Null in a changefeed's scope: the fence is the inbox's of the changefeed the token names. */
    private final Supplier<Fence> fence;
    private final Function<Inbound, NodeId> sender;
    private final ToLongFunction<Inbound> epoch;

    private Scope(Supplier<Fence> fence, Function<Inbound, NodeId> sender, ToLongFunction<Inbound> epoch) {
      this.fence = fence;
      this.sender = sender;
      this.epoch = epoch;
    }

    /**
     * The changefeed the token names, asked as {@code owner} whoever sent the message: a command that makes
     * {@code owner} the changefeed's owner (an add on its node) or closes its ownership there (a remove).
     */
    public static Scope changefeedAs(NodeId owner) {
      return new Scope(null, in -> owner, CHANGEFEED.epoch);
    }

    /** A role's own {@code fence}, asked by the message's sender at the {@code epoch} read from the message. */
    public static Scope of(Supplier<Fence> fence, ToLongFunction<Inbound> epoch) {
      return new Scope(fence, Inbound::from, epoch);
    }
  }

  /**
   * An admitted message: the handler acts on it and keeps {@code decision.next()} if it does.
   *
   * @param changefeed the changefeed the token names, null when it names none (a command to a node as a whole)
   * @param epoch the epoch the last check read, and {@code decision} that check's
   */
  public record Admitted<M extends Message>(ChangefeedId changefeed, NodeId from, M payload, long epoch, Fence.Decision decision) {}

  /** A rejected message, for a check whose rejections are answered (an older owner's close is acknowledged). */
  public record Rejected<M extends Message>(ChangefeedId changefeed, NodeId from, M payload, long epoch, Admission admission) {}

  /** One check of a registration; {@code onRejected} is null when a rejection is only counted. */
  private record Check<M extends Message, R>(Scope scope, Rule rule, Function<Rejected<M>, R> onRejected) {}

  /** {@code onInvalidChangefeed} is null when the receiver validates ids before delivering (see {@link #deliver}). */
  private record Registration<M extends Message, R>(Class<M> type, List<Check<M, R>> checks,
      BiFunction<NodeId, M, R> onInvalidChangefeed, Function<Admitted<M>, R> handler) {

    R deliver(FencedInbox<R> inbox, Inbound in) {
      M message = type.cast(in.payload());
      String named = in.fence().getChangefeedId();
      ChangefeedId changefeed = ChangefeedId.isValid(named) ? ChangefeedId.of(named) : null;
      String shown = changefeed == null ? NO_CHANGEFEED : changefeed.value();
      long epoch = 0;
      Fence.Decision decision = null;
      for (Check<M, R> check : checks) {
        Scope scope = check.scope();
        Fence fence;
        if (scope.fence != null) {
          fence = scope.fence.get();
        } else if (changefeed != null) {
          fence = inbox.fences.apply(changefeed);
        } else if (onInvalidChangefeed != null) {
          return onInvalidChangefeed.apply(in.from(), message);
        } else {
          throw new IllegalArgumentException(in.type() + " from " + in.from() + " names no valid changefeed; validate it first");
        }
        epoch = scope.epoch.applyAsLong(in);
        decision = check.rule().admit(fence, scope.sender.apply(in), epoch);
        if (!decision.accepted() && ProtocolMutation.SKIP_RECEIVER_FENCE.on()) {
          // The simulator's deliberate bug: no check at all, so the sender becomes the owner at its epoch.
          decision = new Fence.Decision(Admission.TAKEOVER, new Fence(scope.sender.apply(in), epoch, false, false, Epochs.COMPAT));
        }
        if (!inbox.rejections.check(decision, shown, in.type(), in.from(), epoch, fence)) {
          return check.onRejected() == null
              ? inbox.dropped
              : check.onRejected().apply(new Rejected<>(changefeed, in.from(), message, epoch, decision.admission()));
        }
      }
      return handler.apply(new Admitted<>(changefeed, in.from(), message, epoch, decision));
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
   * Admits {@code in} by its type's checks: its handler's result, or the failing check's rejection hook's, or the
   * dropped value. A message whose token names no valid changefeed goes, when a changefeed's scope is reached, to its
   * type's hook for that; a receiver that registered none must have validated the id before.
   */
  public R deliver(Inbound in) {
    Registration<?, R> registration = registrations.get(in.payload().getClass());
    if (registration == null) {
      throw new IllegalArgumentException("no rule for " + in.type() + "; ask handles() first");
    }
    return registration.deliver(this, in);
  }

  /** Registers each fenced type with its checks and handler; {@link #build} makes the inbox. */
  public static final class Builder<R> {
    private final String role;
    private final MeterRegistry metrics;
    private final Map<Class<?>, Registration<?, R>> registrations = new LinkedHashMap<>();

    private Builder(String role, MeterRegistry metrics) {
      this.role = role;
      this.metrics = metrics;
    }

    /** {@code type} admitted by {@code rule} in its changefeed's scope, asked by its sender. */
    public <M extends Message> Builder<R> on(Class<M> type, Rule rule, Function<Admitted<M>, R> handler) {
      return on(type).check(Scope.CHANGEFEED, rule).then(handler);
    }

    /** As {@link #on(Class, Rule, Function)}, with a hook that answers a rejected message (after it was counted). */
    public <M extends Message> Builder<R> on(Class<M> type, Rule rule, Function<Admitted<M>, R> handler, Function<Rejected<M>, R> onRejected) {
      return on(type).check(Scope.CHANGEFEED, rule, onRejected).then(handler);
    }

    /** Starts registering {@code type}: its checks in the order they run, then its handler. */
    public <M extends Message> Registering<M> on(Class<M> type) {
      return new Registering<>(type);
    }

    /**
     * The inbox over {@code fences} (the receiver's current fence of a changefeed, {@link Fence#INITIAL} for one it
     * never heard of); {@code dropped} is what delivering a rejected message without a hook returns.
     */
    public FencedInbox<R> build(Function<ChangefeedId, Fence> fences, R dropped) {
      return new FencedInbox<>(this, fences, dropped);
    }

    /** One type being registered. */
    public final class Registering<M extends Message> {
      private final Class<M> type;
      private final List<Check<M, R>> checks = new ArrayList<>();
      private BiFunction<NodeId, M, R> onInvalidChangefeed;

      private Registering(Class<M> type) {
        this.type = type;
      }

      /** Then a check by {@code rule} in {@code scope}; a message it rejects is counted and dropped. */
      public Registering<M> check(Scope scope, Rule rule) {
        return check(scope, rule, null);
      }

      /** As {@link #check(Scope, Rule)}, with a hook that answers a message this check rejected (after it was counted). */
      public Registering<M> check(Scope scope, Rule rule, Function<Rejected<M>, R> onRejected) {
        checks.add(new Check<>(scope, rule, onRejected));
        return this;
      }

      /**
       * What answers a message (from its sender) that names no valid changefeed once the checks before its changefeed's
       * scope admitted it: such a request is malformed, not fenced, and is answered as the receiver answers one.
       */
      public Registering<M> onInvalidChangefeed(BiFunction<NodeId, M, R> hook) {
        this.onInvalidChangefeed = hook;
        return this;
      }

      /** Registers the type with {@code handler}, which runs once every check admitted the message. */
      public Builder<R> then(Function<Admitted<M>, R> handler) {
        if (checks.isEmpty()) {
          throw new IllegalArgumentException(type.getSimpleName() + " needs a check");
        }
        if (registrations.putIfAbsent(type, new Registration<>(type, List.copyOf(checks), onInvalidChangefeed, handler)) != null) {
          throw new IllegalArgumentException(type.getSimpleName() + " has a rule already");
        }
        return Builder.this;
      }
    }
  }
}
