package io.feedline.common.messaging;

import io.feedline.proto.ControlEnvelope;

/**
 * Sees every control message a {@link ControlBus} sends (outbound) or receives (inbound) and decides
 * whether it is delivered, dropped, delayed or duplicated. Tests and the simulation use it to inject
 * faults; production installs none. Called on the sending or receiving context: must not block.
 */
@FunctionalInterface
public interface MessageInterceptor {

  /** @param type the payload's message type name, e.g. {@code ScheduleDispatcherRequest} */
  Verdict intercept(Route route, String type, ControlEnvelope envelope);
}
