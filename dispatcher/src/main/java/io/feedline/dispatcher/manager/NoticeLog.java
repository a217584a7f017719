package io.feedline.dispatcher.manager;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.metrics.Meters;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where notices go: every one is counted ({@code feedline.dispatcher.notices{type,reason}}), and the
 * first of each (changefeed, type, reason) is logged, so a peer that keeps resending a bad request does
 * not flood the log.
 */
public final class NoticeLog {

  private static final Logger LOG = LoggerFactory.getLogger(NoticeLog.class);

  private final MeterRegistry metrics;
  private final OncePerKeyLogger once = new OncePerKeyLogger(LOG, 10_000);

  public NoticeLog(MeterRegistry metrics) {
    this.metrics = metrics;
  }

  public void report(ChangefeedId changefeed, Notice notice) {
    Meters.counter(metrics, "feedline.dispatcher.notices", "Requests the dispatcher side refused and its events worth a log line, by type and reason",
        "type", notice.type(), "reason", notice.reason()).increment();
    List<Object> key = List.of(String.valueOf(changefeed), notice.type(), notice.reason());
    String line = "event=dispatcher_notice changefeed=" + changefeed + " type=" + notice.type() + " reason=" + notice.reason()
        + " detail=\"" + notice.detail() + "\"";
    if (notice.level() == Notice.Level.WARN) {
      once.warn(key, () -> line);
    } else {
      once.info(key, () -> line);
    }
  }
}
