package io.feedline.common.simulation;

import java.util.Arrays;
import java.util.Optional;

/**
 * Deliberate protocol bugs, each the shape a real one would take, that the deterministic simulator turns on one at a
 * time to prove its invariants catch them (`feedline simulate --mutation NAME`). The product consults each at the one
 * place the protocol would break. Off unless the simulator turns one on: a node never does, and nothing a user can
 * configure reaches it. One at a time per JVM: the simulator runs one mutation for all its seeds.
 */
public enum ProtocolMutation {
  /** A receiver acts on a message its fence rejects (as if the fence check were missing). */
  SKIP_RECEIVER_FENCE("skip-receiver-fence"),
  /** The coordinator moves a maintainer without persisting a new epoch first. */
  SKIP_EPOCH_BUMP("skip-epoch-bump"),
  /** A dispatcher manager closes on a close request from a lower epoch than its owner's. */
  ACCEPT_STALE_CLOSE("accept-stale-close"),
  /** A dispatcher advances its checkpoint when it hands a batch to the sink, before the sink made it durable. */
  EARLY_CHECKPOINT("early-checkpoint");

  private static volatile ProtocolMutation active;

  private final String cliName;

  ProtocolMutation(String cliName) {
    this.cliName = cliName;
  }

  /** The name `simulate --mutation` takes. */
  public String cliName() {
    return cliName;
  }

  /** Whether this bug is switched on now. */
  public boolean on() {
    return active == this;
  }

  /** Switches {@code mutation} on (empty: none), for the whole JVM, until the next call. */
  public static void activate(Optional<ProtocolMutation> mutation) {
    active = mutation.orElse(null);
  }

  public static Optional<ProtocolMutation> active() {
    return Optional.ofNullable(active);
  }

  public static Optional<ProtocolMutation> byName(String cliName) {
    return Arrays.stream(values()).filter(m -> m.cliName.equals(cliName)).findFirst();
  }
}
