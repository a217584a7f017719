package io.feedline.common.log;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * Logs a condition the first time each key is seen, so a peer that keeps sending the same bad or stale
 * message is reported once instead of flooding the log; the metric beside it counts every occurrence.
 * Remembers a bounded number of keys (oldest forgotten first).
 */
public final class OncePerKeyLogger {

  private final Logger logger;
  private final Set<Object> seen;

  public OncePerKeyLogger(Logger logger, int maxKeys) {
    this.logger = logger;
    this.seen = Collections.synchronizedSet(Collections.newSetFromMap(new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Object, Boolean> eldest) {
        return size() > maxKeys;
      }
    }));
  }

  /** Warns with the supplied line if {@code key} was not reported yet. Returns whether it logged. */
  public boolean warn(Object key, Supplier<String> line) {
    if (!seen.add(key)) {
      return false;
    }
    logger.warn(line.get());
    return true;
  }

  public boolean info(Object key, Supplier<String> line) {
    if (!seen.add(key)) {
      return false;
    }
    logger.info(line.get());
    return true;
  }
}
