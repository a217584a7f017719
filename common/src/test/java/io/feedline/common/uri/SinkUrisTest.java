package io.feedline.common.uri;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SinkUrisTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
      mysql://user:s3cret@db:3306/app                | mysql://user:***@db:3306/app
      mysql://user:p@ss:w@rd@db/app                  | mysql://user:***@db/app
      mysql://user@db/app                            | mysql://user@db/app
      postgres://u:pw@h/db?sslmode=require&password=x | postgres://u:***@h/db?sslmode=require&password=***
      kafka://broker:9092/topic?sasl-token=abc&acks=1 | kafka://broker:9092/topic?sasl-token=***&acks=1
      file:///tmp/out?api_key=k                      | file:///tmp/out?api_key=***
      blackhole://                                   | blackhole://
      file:///tmp/a@b:c                              | file:///tmp/a@b:c
      postgresql://u:pa/ss@h/db                      | postgresql://u:***@h/db
      postgresql://u:pa#ss?x@h:5432/db               | postgresql://u:***@h:5432/db
      postgresql://h:5432/db?application=a@b         | postgresql://h:5432/db?application=a@b
      NULL                                           | ''
      """)
  void redactsPasswordsAndSecretParametersOnly(String uri, String expected) {
    assertThat(SinkUris.redact(uri)).isEqualTo(expected);
  }
}
