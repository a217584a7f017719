package io.feedline.common.metastore.embedded;

import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.WatchEvent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/** MVStore value types for the embedded store's maps: MVStore owns the file, these only lay out a value. */
final class DataTypes {

  private DataTypes() {}

  /** A stored key with its revision metadata. */
  static final class KeyValueType extends BasicDataType<KeyValue> {
    static final KeyValueType INSTANCE = new KeyValueType();

    @Override
    public int getMemory(KeyValue kv) {
      return 64 + 2 * kv.key().length() + kv.value().length;
    }

    @Override
    public void write(WriteBuffer buffer, KeyValue kv) {
      writeKeyValue(buffer, kv);
    }

    @Override
    public KeyValue read(ByteBuffer buffer) {
      return readKeyValue(buffer);
    }

    @Override
    public KeyValue[] createStorage(int size) {
      return new KeyValue[size];
    }
  }

  /** The events of one revision, in the order they happened. */
  static final class EventsType extends BasicDataType<List<WatchEvent>> {
    static final EventsType INSTANCE = new EventsType();

    @Override
    public int getMemory(List<WatchEvent> events) {
      int memory = 32;
      for (WatchEvent event : events) {
        memory += KeyValueType.INSTANCE.getMemory(event.kv()) + 8;
      }
      return memory;
    }

    @Override
    public void write(WriteBuffer buffer, List<WatchEvent> events) {
      buffer.putVarInt(events.size());
      for (WatchEvent event : events) {
        buffer.put((byte) event.type().ordinal());
        writeKeyValue(buffer, event.kv());
      }
    }

    @Override
    public List<WatchEvent> read(ByteBuffer buffer) {
      int size = DataUtils.readVarInt(buffer);
      List<WatchEvent> events = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        WatchEvent.Type type = WatchEvent.Type.values()[buffer.get()];
        events.add(new WatchEvent(type, readKeyValue(buffer)));
      }
      return events;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public List<WatchEvent>[] createStorage(int size) {
      return new List[size];
    }
  }

  private static void writeKeyValue(WriteBuffer buffer, KeyValue kv) {
    buffer.putVarInt(kv.key().length()).putStringData(kv.key(), kv.key().length());
    buffer.putVarInt(kv.value().length).put(kv.value());
    buffer.putVarLong(kv.createRevision())
        .putVarLong(kv.modRevision())
        .putVarLong(kv.version())
        .putVarLong(kv.lease());
  }

  private static KeyValue readKeyValue(ByteBuffer buffer) {
    String key = DataUtils.readString(buffer);
    byte[] value = new byte[DataUtils.readVarInt(buffer)];
    buffer.get(value);
    long createRevision = DataUtils.readVarLong(buffer);
    long modRevision = DataUtils.readVarLong(buffer);
    long version = DataUtils.readVarLong(buffer);
    long lease = DataUtils.readVarLong(buffer);
    return new KeyValue(key, value, createRevision, modRevision, version, lease);
  }
}
