package io.feedline.dispatcher.source.datagen;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.dispatcher.schema.TableSchema;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The upstream that {@code datagen} replays: what happened to table {@code t} at tick {@code k} is a pure
 * function of {@code (seed, tables, t, k)}, and its commit ts is the tick's place in TSO space
 * ({@link TickTimeline#commitTs}), so a subscription from any start ts sees exactly the suffix of the full
 * history, on every node and after every restart.
 *
 * <p>The history is built so that no event needs to look back further than a bounded window:
 * <ul>
 *   <li>DDLs are spread so that <b>no two share a tick</b> (an upstream never commits two DDLs at one ts,
 *       and the DDL barrier blocks on one DDL per commit ts): with {@code M = 2 * tables}, table
 *       {@code t}'s DDLs fall only on ticks {@code k} with {@code (k - 1) mod M == 2(t - 1)}. Every DDL tick
 *       is odd, every row tick even, so a row and a DDL never share a tick either.</li>
 *   <li>Each table lives through <em>periods</em> of {@code P} ticks (per table, a multiple of {@code M},
 *       at least about the spec's lifetime, 2048 by default), shifted by its own phase of {@code f} DDL slots ({@code 0 <= f < P / M}).
 *       Table {@code t}'s local offset at tick {@code k} is {@code o = (k - 1 - 2(t - 1) - f M) mod P};
 *       period {@code n} holds the ticks with {@code floor((k - 1 - 2(t - 1) - f M) / P) == n}. Ticks
 *       before period 0 all count as the last tick of period -1, past its drop: the table does not exist
 *       yet. The phases spread the DDLs over time: without them every table of one period length would
 *       reach its CREATE (or TRUNCATE, or DROP) in the same sweep of {@code M} ticks, and sweeps with no
 *       DDL at all would follow one another for minutes.</li>
 *   <li>DDLs sit on offsets that are multiples of {@code M}: CREATE TABLE at 0, an optional TRUNCATE
 *       near {@code P/4}, an optional ADD COLUMN near {@code P/2}, DROP TABLE at {@code P - M}.</li>
 *   <li>Row changes sit on odd offsets. Row {@code j} may be inserted at {@code 2j+1}; it lives an even
 *       number of ticks {@code L} in [2, 48], is updated at {@code ins + 2*(L/4)} when {@code L >= 4}
 *       and deleted at {@code ins + L}. A TRUNCATE ends every row inserted before it and DROP every row,
 *       silently, so no update or delete ever touches a row that is gone.</li>
 * </ul>
 * Several rows may change at one tick (one upstream transaction); they are ordered by key. From tick 1 on
 * every table starts dropped and is created at the start of its period 0, so the history from tick 1 is
 * self-contained; a reader starting later sees updates and deletes of rows inserted before it started.
 */
public final class DatagenModel {

  /** The longest a row lives: how far back the rows changing at one tick can have been inserted. */
  private static final int MAX_LIFE = 48;
  /** The DDL kinds the generated history holds (not DROP COLUMN: a table keeps every column it gains in its life). */
  public static final Set<DdlEvent.Type> DDL_KINDS =
      EnumSet.of(DdlEvent.Type.CREATE_TABLE, DdlEvent.Type.DROP_TABLE, DdlEvent.Type.TRUNCATE_TABLE, DdlEvent.Type.ADD_COLUMN);
  private static final long SALT_PERIOD = 0x5045_5249_4f44L;
  private static final long SALT_PHASE = 0x5048_4153_45L;
  private static final long SALT_TRUNCATE = 0x5452_554eL;
  private static final long SALT_ADD_COLUMN = 0x4144_4443L;
  private static final long SALT_INSERT = 0x494e_53L;
  private static final long SALT_LIFE = 0x4c49_4645L;
  private static final long SALT_VALUE = 0x5641_4cL;

  /** The columns of every CREATE TABLE, and the one ADD COLUMN adds (the statements below spell the same). */
  private static final List<ColumnSchema> BASE_COLUMNS = List.of(new ColumnSchema("id", "BIGINT", false),
      new ColumnSchema("v0", "BIGINT", true), new ColumnSchema("v1", "VARCHAR(24)", true));
  private static final ColumnSchema EXTRA_COLUMN = new ColumnSchema("extra", "INT", true);

  /** About how many ticks a table lives, CREATE to DROP, unless told otherwise. */
  public static final long DEFAULT_LIFETIME = 2048;

  private final long seed;
  private final int tables;
  private final TickTimeline timeline;
  private final long lifetime;

  public DatagenModel(long seed, int tables, TickTimeline timeline) {
    this(seed, tables, timeline, DEFAULT_LIFETIME);
  }

  /** @param lifetime about how many ticks a table lives, CREATE to DROP (at least 8 DDL slots whatever it says) */
  public DatagenModel(long seed, int tables, TickTimeline timeline, long lifetime) {
    if (tables < 1) {
      throw new IllegalArgumentException("tables must be positive: " + tables);
    }
    this.seed = seed;
    this.tables = tables;
    this.timeline = timeline;
    this.lifetime = lifetime;
  }

  /** The model of a parsed {@code datagen} URI. */
  public static DatagenModel of(DatagenSpec spec) {
    return new DatagenModel(spec.seed(), spec.tables(), TickTimeline.forRate(spec.rate()), spec.lifetime());
  }

  public TickTimeline timeline() {
    return timeline;
  }

  public int tables() {
    return tables;
  }

  /** Whether {@code tableId} is one of this upstream's tables (ids 1..tables). */
  public boolean hasTable(long tableId) {
    return tableId >= 1 && tableId <= tables;
  }

  /** Everything that happened to {@code tableId} at {@code tick}: its DDL (if any), else its row changes by key. */
  public List<ChangeEvent> eventsAt(long tableId, long tick) {
    DdlEvent ddl = ddlAt(tableId, tick);
    if (ddl != null) {
      return List.of(ddl);
    }
    return List.copyOf(rowsAt(tableId, tick));
  }

  /**
   * Whether {@code tableId} exists at {@code tick}: its CREATE TABLE is at or before it and its DROP TABLE
   * after. Before its first CREATE a table counts as dropped (offsets past the drop, see {@link #period}).
   */
  public boolean existsAt(long tableId, long tick) {
    if (!hasTable(tableId) || tick < 1) {
      return false;
    }
    Period p = period(tableId, tick);
    return p.offset < p.dropAt;
  }

  /**
   * The tick of the CREATE TABLE that began the incarnation of {@code tableId} existing at {@code tick},
   * or -1 when the table does not exist there.
   */
  public long createTickAt(long tableId, long tick) {
    if (!existsAt(tableId, tick)) {
      return -1;
    }
    return tick - period(tableId, tick).offset;
  }

  /**
   * How {@code tableId} is defined at {@code tick} (its CREATE TABLE, plus the column an ADD COLUMN at or
   * before the tick added), or null when it does not exist there.
   */
  public TableSchema schemaAt(long tableId, long tick) {
    if (!existsAt(tableId, tick)) {
      return null;
    }
    Period p = period(tableId, tick);
    List<ColumnSchema> columns = new ArrayList<>(BASE_COLUMNS);
    if (p.addColumnAt >= 0 && p.offset >= p.addColumnAt) {
      columns.add(EXTRA_COLUMN);
    }
    return new TableSchema(tableId, "t" + tableId, columns, List.of("id"));
  }

  /** The DDL of {@code tableId} at {@code tick}, or null. */
  public DdlEvent ddlAt(long tableId, long tick) {
    if (!hasTable(tableId) || tick < 1) {
      return null;
    }
    if (ddlSlotOwner(tick) != tableId) {
      return null;
    }
    Period p = period(tableId, tick);
    long ts = timeline.commitTs(tick);
    String table = "t" + tableId;
    if (p.offset == 0) {
      return new DdlEvent(tableId, ts, DdlEvent.Type.CREATE_TABLE, table,
          "CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, v0 BIGINT, v1 VARCHAR(24))");
    }
    if (p.offset == p.dropAt) {
      return new DdlEvent(tableId, ts, DdlEvent.Type.DROP_TABLE, table, "DROP TABLE " + table);
    }
    if (p.offset == p.truncateAt) {
      return new DdlEvent(tableId, ts, DdlEvent.Type.TRUNCATE_TABLE, table, "TRUNCATE TABLE " + table);
    }
    if (p.offset == p.addColumnAt) {
      return new DdlEvent(tableId, ts, DdlEvent.Type.ADD_COLUMN, table, "ALTER TABLE " + table + " ADD COLUMN extra INT");
    }
    return null;
  }

  /** The row changes of {@code tableId} at {@code tick}, by key. */
  public List<RowChange> rowsAt(long tableId, long tick) {
    if (!hasTable(tableId) || tick < 1) {
      return List.of();
    }
    Period p = period(tableId, tick);
    int o = p.offset;
    if ((o & 1) == 0) {
      return List.of();
    }
    long ts = timeline.commitTs(tick);
    List<RowChange> rows = new ArrayList<>(2);
    for (int j = Math.max(0, (o - 1 - MAX_LIFE) / 2); j <= (o - 1) / 2; j++) {
      Row row = row(p, tableId, j);
      if (row == null) {
        continue;
      }
      if (o == row.insertAt) {
        rows.add(new RowChange(tableId, ts, RowChange.Op.INSERT, keyBytes(j), Map.of(), values(p, tableId, j, 0, row.insertAt)));
      } else if (o == row.updateAt && o < row.endAt) {
        rows.add(new RowChange(tableId, ts, RowChange.Op.UPDATE, keyBytes(j),
            values(p, tableId, j, 0, row.insertAt), values(p, tableId, j, 1, row.updateAt)));
      } else if (o == row.deleteAt && o < row.endAt) {
        int lastWrite = row.updateAt > 0 ? row.updateAt : row.insertAt;
        rows.add(new RowChange(tableId, ts, RowChange.Op.DELETE, keyBytes(j), values(p, tableId, j, row.updateAt > 0 ? 1 : 0, lastWrite), Map.of()));
      }
    }
    return rows;
  }

  /** The key bytes of row {@code key}: 8 bytes big-endian, so spans split tables by key range. */
  public static ByteString keyBytes(long key) {
    return ByteString.copyFrom(ByteBuffer.allocate(Long.BYTES).putLong(key).array());
  }

  /** The row id whose key bytes {@code key} are ({@link #keyBytes} reversed). */
  public static long id(ByteString key) {
    return key.asReadOnlyByteBuffer().getLong();
  }

  /** The DDL at {@code tick}, of whichever table's slot it is, or null: what the table trigger reads there. */
  public DdlEvent ddlAt(long tick) {
    return ddlAt(ddlSlotOwner(tick), tick);
  }

  /** The tick of {@code tableId}'s first CREATE TABLE: the start of its period 0, where its phase puts it. */
  public long firstCreateTick(long tableId) {
    return firstCreateTick(tableId, slots(tableId));
  }

  private long firstCreateTick(long tableId, int slots) {
    return 1 + 2 * (tableId - 1) + ddlStride() * phase(tableId, slots);
  }

  /** The table whose DDL slot {@code tick} is (0 if none): the only table that can have a DDL there. */
  private long ddlSlotOwner(long tick) {
    long local = Math.floorMod(tick - 1, ddlStride());
    return (local & 1) == 0 ? local / 2 + 1 : 0;
  }

  private long ddlStride() {
    return 2L * tables;
  }

  private Period period(long tableId, long tick) {
    int stride = (int) ddlStride();
    int slots = slots(tableId);
    int length = stride * slots;
    // Before period 0 the table does not exist yet: every such tick is the last tick of period -1, past its drop.
    long local = Math.max(-1, tick - firstCreateTick(tableId, slots));
    long index = Math.floorDiv(local, length);
    int offset = (int) Math.floorMod(local, (long) length);
    long truncate = hash(tableId, index, 0, SALT_TRUNCATE);
    long addColumn = hash(tableId, index, 0, SALT_ADD_COLUMN);
    int truncateAt = (truncate & 1) == 0 ? -1 : stride * (slots / 4 + (int) Math.floorMod(truncate >>> 1, (long) slots / 8));
    int addColumnAt = (addColumn & 1) == 0 ? -1 : stride * (slots / 2 + (int) Math.floorMod(addColumn >>> 1, (long) slots / 8));
    return new Period(index, length, offset, truncateAt, addColumnAt, length - stride);
  }

  /** The length of {@code tableId}'s periods in DDL slots. */
  private int slots(long tableId) {
    int stride = (int) ddlStride();
    int base = (int) Math.max(8, (lifetime + stride - 1) / stride);
    return base + (int) Math.floorMod(hash(tableId, 0, 0, SALT_PERIOD), (long) base / 2);
  }

  /** How many DDL slots {@code tableId}'s periods are shifted by: {@code 0 <= phase < slots}. */
  private long phase(long tableId, int slots) {
    return Math.floorMod(hash(tableId, 0, 0, SALT_PHASE), (long) slots);
  }

  /** Row {@code j} of period {@code p}, or null if that slot inserts no row. */
  private Row row(Period p, long tableId, int j) {
    int insertAt = 2 * j + 1;
    if (insertAt >= p.dropAt || Math.floorMod(hash(tableId, p.index, j, SALT_INSERT), 3L) != 0) {
      return null;
    }
    int life = 2 * (1 + (int) Math.floorMod(hash(tableId, p.index, j, SALT_LIFE), (long) MAX_LIFE / 2));
    int updateAt = life >= 4 ? insertAt + 2 * (life / 4) : -1;
    int endAt = p.truncateAt > insertAt ? p.truncateAt : p.dropAt;
    return new Row(insertAt, updateAt, insertAt + life, endAt);
  }

  /** The row's column values as written by its {@code version}-th write (0 insert, 1 update) at {@code offset}. */
  private Map<String, Object> values(Period p, long tableId, int j, int version, int offset) {
    long h = hash(tableId, p.index, j, SALT_VALUE + version);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", (long) j);
    v.put("v0", h >> 16);
    v.put("v1", "s" + Long.toHexString(h & 0xffff_ffffL));
    if (p.addColumnAt >= 0 && offset > p.addColumnAt) {
      v.put("extra", (int) (h & 0x7fff));
    }
    return Collections.unmodifiableMap(v);
  }

  private long hash(long tableId, long period, long slot, long salt) {
    long h = mix(seed ^ 0x9E37_79B9_7F4A_7C15L);
    h = mix(h ^ tableId);
    h = mix(h ^ period);
    h = mix(h ^ slot);
    return mix(h ^ salt);
  }

  /** SplitMix64's finalizer: a cheap, well-distributed 64-bit mix. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
    return z ^ (z >>> 31);
  }

  private record Period(long index, int length, int offset, int truncateAt, int addColumnAt, int dropAt) {}

  private record Row(int insertAt, int updateAt, int deleteAt, int endAt) {}
}
