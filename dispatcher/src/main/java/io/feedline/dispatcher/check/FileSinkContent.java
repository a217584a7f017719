package io.feedline.dispatcher.check;

import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.sink.file.SpanRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What a file sink directory holds (not its redo log): every event line of {@code ddl.jsonl} and
 * {@code table-<id>.jsonl}, and every span record of {@code checkpoints/}.
 *
 * <p>The changefeed checkpoint the sink proves is derived from the span records: the minimum over the
 * spans still replicating of their checkpoints. A span record of table X whose checkpoint is {@code T-1}
 * where {@code ddl.jsonl} holds a DROP TABLE X at {@code T} belongs to a span the drop removed: it no
 * longer moves, and is left out, unless X was created again later, at {@code C}, in which case its span
 * counts with at least {@code C} (nothing of X lies between the drop and the create). A span that has
 * never written anything has no record yet; the dispatcher records an idle span's checkpoint within
 * about a second, so right after a span starts the derived checkpoint may still pass it. The start of the
 * window ({@code from}) is the lowest {@code sinceTs} of the records: where the table trigger, which
 * starts with the changefeed, began.
 */
public record FileSinkContent(List<ChangeLine> events, List<SpanRecord> records) {

  public FileSinkContent {
    events = List.copyOf(events);
    records = List.copyOf(records);
  }

  /** Reads {@code dir}; a missing directory or an unreadable line is an {@link IOException}. */
  public static FileSinkContent read(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("no file sink directory at " + dir);
    }
    List<ChangeLine> events = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files = listing.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
    }
    for (Path file : files) {
      readLines(file, events);
    }
    List<SpanRecord> records = new ArrayList<>();
    Path checkpoints = dir.resolve("checkpoints");
    if (Files.isDirectory(checkpoints)) {
      List<Path> recordFiles;
      try (Stream<Path> listing = Files.list(checkpoints)) {
        recordFiles = listing.filter(p -> {
          String name = p.getFileName().toString();
          return name.endsWith(".json") && !name.endsWith(".redo.json");
        }).sorted().toList();
      }
      for (Path file : recordFiles) {
        SpanRecord record = SpanRecord.read(file);
        if (record != null) {
          records.add(record);
        }
      }
    }
    return new FileSinkContent(events, records);
  }

  /**
   * A line that does not parse is an error, except a last line without its newline: a crash during an
   * append leaves one, always above the span's checkpoint (lines are forced before the record moves).
   */
  private static void readLines(Path file, List<ChangeLine> into) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      boolean torn = i == lines.length - 1;
      try {
        into.add(ChangeLine.parse(line));
      } catch (IllegalArgumentException e) {
        if (!torn) {
          throw new IOException(file + " line " + (i + 1) + " is not an event: " + e.getMessage(), e);
        }
      }
    }
  }

  /** The changefeed checkpoint the records prove (see the class comment), or empty without records. */
  public OptionalLong checkpoint() {
    Map<Long, List<ChangeLine>> ddlsByTable = events.stream().filter(ChangeLine::isDdl).collect(Collectors.groupingBy(ChangeLine::table));
    long min = Long.MAX_VALUE;
    boolean any = false;
    for (SpanRecord record : records) {
      OptionalLong effective = effectiveCheckpoint(record, ddlsByTable.getOrDefault(record.tableId(), List.of()));
      if (effective.isPresent()) {
        min = Math.min(min, effective.getAsLong());
        any = true;
      }
    }
    return any ? OptionalLong.of(min) : OptionalLong.empty();
  }

  /** Where the changefeed began: the lowest start of any span's writer, or empty without records. */
  public OptionalLong since() {
    return records.stream().mapToLong(SpanRecord::sinceTs).min();
  }

  /** The record's checkpoint, the create after the drop that ended its span, or empty when it ended for good. */
  private static OptionalLong effectiveCheckpoint(SpanRecord record, List<ChangeLine> ddlsOfItsTable) {
    if (record.tableId() == TableSpans.DDL_TABLE_ID) {
      return OptionalLong.of(record.checkpointTs());
    }
    boolean droppedRightAfter = ddlsOfItsTable.stream()
        .anyMatch(e -> "DROP_TABLE".equals(e.ddl()) && e.commitTs() == record.checkpointTs() + 1);
    if (!droppedRightAfter) {
      return OptionalLong.of(record.checkpointTs());
    }
    return ddlsOfItsTable.stream().filter(e -> "CREATE_TABLE".equals(e.ddl()) && e.commitTs() > record.checkpointTs())
        .mapToLong(ChangeLine::commitTs).min();
  }
}
