package io.feedline.dispatcher.manager;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.dispatcher.Dispatcher;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.SpanHold;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DispatcherReportsTest {

  private static final DispatcherKey A = Requests.id(1);
  private static final DispatcherKey B = Requests.id(2);
  private static final DdlEvent DDL = new DdlEvent(2, 50, DdlEvent.Type.TRUNCATE_TABLE, "t2", "TRUNCATE TABLE t2");

  private final ManualScheduler control = new ManualScheduler(0);
  private final List<String> told = new ArrayList<>();
  private final DispatcherReports reports = new DispatcherReports(control, new Dispatcher.Listener() {
    @Override
    public void working(DispatcherKey ref) {
      told.add(name(ref) + " working");
    }

    @Override
    public void progressed(DispatcherKey ref, long checkpointTs, long resolvedTs) {
      told.add(name(ref) + " progressed " + checkpointTs);
    }

    @Override
    public void blocked(DispatcherKey ref, DdlEvent ddl) {
      told.add(name(ref) + " blocked " + ddl.commitTs());
    }

    @Override
    public void passed(DispatcherKey ref, DdlEvent ddl, boolean written) {
      told.add(name(ref) + " passed " + ddl.commitTs());
    }

    @Override
    public void failed(DispatcherKey ref, Throwable cause, SpanHold side) {
      told.add(name(ref) + " failed");
    }
  });

  private static String name(DispatcherKey ref) {
    return ref.equals(A) ? "A" : "B";
  }

  @Test
  void reportsReachTheControlContextInOrderWithProgressCoalescedBetweenOtherReports() {
    reports.working(A);
    reports.progressed(A, 10, 10);
    reports.progressed(B, 5, 5);
    reports.progressed(A, 20, 20);
    reports.progressed(A, 49, 49);
    reports.blocked(A, DDL);
    reports.passed(A, DDL, true);
    reports.progressed(A, 60, 60);
    reports.progressed(B, 7, 7);
    reports.progressed(A, 70, 70);
    assertThat(told).as("nothing is told on the data lane").isEmpty();
    assertThat(control.pending()).as("one control task for the whole burst").isEqualTo(1);

    control.runDue();
    assertThat(told).containsExactly("A working", "A progressed 49", "B progressed 7", "A blocked 50", "A passed 50", "A progressed 70");
  }

  @Test
  void progressAfterADrainStartsANewReport() {
    reports.progressed(A, 10, 10);
    control.runDue();
    reports.progressed(A, 20, 20);
    reports.failed(A, new IllegalStateException("sink down"), SpanHold.SPAN_HOLD_SINK);
    control.runDue();
    assertThat(told).containsExactly("A progressed 10", "A progressed 20", "A failed");
  }
}
