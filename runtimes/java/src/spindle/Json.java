// Json.java — the little JSON this program writes: objects of strings, numbers, booleans and nested
// objects, keys in insertion order.
package spindle;

import java.util.ArrayList;
import java.util.List;

final class Json {
  private final List<String> fields = new ArrayList<>();

  Json str(String k, String v) {
    return raw(k, quote(v));
  }

  Json num(String k, double v) {
    return raw(k, Double.isFinite(v) ? (v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v)) : "0");
  }

  Json num(String k, long v) {
    return raw(k, Long.toString(v));
  }

  Json bool(String k, boolean v) {
    return raw(k, Boolean.toString(v));
  }

  Json obj(String k, Json v) {
    return raw(k, v.render());
  }

  Json raw(String k, String rendered) {
    fields.add(quote(k) + ": " + rendered);
    return this;
  }

  String render() {
    return "{" + String.join(", ", fields) + "}";
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }
}
