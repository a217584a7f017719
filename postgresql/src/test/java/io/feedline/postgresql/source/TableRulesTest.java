package io.feedline.postgresql.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import org.junit.jupiter.api.Test;

class TableRulesTest {

  @Test
  void noRulesCaptureSchemaPublic() {
    TableRules rules = TableRules.parse(null);
    assertThat(rules.captures("public", "orders")).isTrue();
    assertThat(rules.captures("app", "orders")).isFalse();
    assertThat(TableRules.parse(" ").captures("public", "x")).isTrue();
  }

  @Test
  void theLastMatchingRuleDecides() {
    TableRules rules = TableRules.parse("public.*,!public.audit_*,app.orders,public.audit_keep");
    assertThat(rules.captures("public", "orders")).isTrue();
    assertThat(rules.captures("public", "audit_log")).isFalse();
    assertThat(rules.captures("public", "audit_keep")).isTrue();
    assertThat(rules.captures("app", "orders")).isTrue();
    assertThat(rules.captures("app", "customers")).isFalse();
  }

  @Test
  void negationsAloneStartFromPublic() {
    TableRules rules = TableRules.parse("!public.tmp?");
    assertThat(rules.captures("public", "tmp1")).isFalse();
    assertThat(rules.captures("public", "tmp12")).isTrue();
    assertThat(rules.captures("other", "t")).isFalse();
  }

  @Test
  void patternCharactersOtherThanStarAndQuestionMarkAreLiteral() {
    TableRules rules = TableRules.parse("s.a+b");
    assertThat(rules.captures("s", "a+b")).isTrue();
    assertThat(rules.captures("s", "aab")).isFalse();
  }

  @Test
  void malformedRulesSayWhatIsExpected() {
    for (String bad : new String[] {"orders", "public.", ".orders", "a.b.c", "!"}) {
      assertThatThrownBy(() -> TableRules.parse(bad)).as(bad).isInstanceOf(InvalidEndpointException.class)
          .hasMessageContaining("[!]schema.table");
    }
  }
}
