package io.feedline.common.id;

import java.util.Objects;
import java.util.regex.Pattern;

/** A changefeed's name; also a metastore key segment, so its alphabet is restricted. */
public record ChangefeedId(String value) implements Comparable<ChangefeedId> {

  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  public ChangefeedId {
    Objects.requireNonNull(value, "value");
    if (!VALID.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "invalid changefeed id '" + value + "': use 1-128 letters, digits, '_', '.', '-', starting with a letter or digit");
    }
  }

  public static ChangefeedId of(String value) {
    return new ChangefeedId(value);
  }

  public static boolean isValid(String value) {
    return value != null && VALID.matcher(value).matches();
  }

  @Override
  public int compareTo(ChangefeedId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
