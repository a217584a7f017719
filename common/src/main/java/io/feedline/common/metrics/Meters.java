package io.feedline.common.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * Feedline's counters and gauges, each registered with its help text: what {@code # HELP} says on /metrics
 * (Prometheus practice, which {@code promtool check metrics} holds a scrape to). Micrometer's shorthand
 * ({@code registry.counter(name, tags)}) registers none.
 */
public final class Meters {

  private Meters() {}

  /** The counter {@code name} with {@code tags} (key, value, ...), registered with {@code help} when first asked for. */
  public static Counter counter(MeterRegistry registry, String name, String help, String... tags) {
    return Counter.builder(name).description(help).tags(tags).register(registry);
  }

  /** A gauge of {@code state}'s {@code value}; returns {@code state} (the registry holds it weakly: keep it). */
  public static <T> T gauge(MeterRegistry registry, String name, String help, T state, ToDoubleFunction<T> value) {
    Gauge.builder(name, state, value).description(help).strongReference(false).register(registry);
    return state;
  }
}
