package claude;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The claude launch options a user chose that are carried to the conversation's resume: the
 * model, the permission mode, extra directories, an appended system prompt. Only these (an
 * allowlist): an option outside it might start work, change where claude writes, or name a
 * conversation of its own.
 */
public final class ClaudeOptions {
    /** Options that take one value. */
    static final Set<String> ONE_VALUE = Set.of("--model", "--permission-mode", "--append-system-prompt");
    /** Options that take one or more values, up to the next option. */
    static final Set<String> VALUES = Set.of("--add-dir");
    /** An option whose values are longer is left behind: a snapshot row is no place for a document. */
    static final int MAX_CHARS = 4096;

    private ClaudeOptions() {}

    /** The allowlisted options in a claude process's argv, in order, each with its value(s); nothing else. */
    public static List<String> carried(List<String> argv) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("--")) break; // what follows is a prompt, not options
            int eq = a.indexOf('=');
            String name = a.startsWith("--") && eq > 0 ? a.substring(0, eq) : a;
            if (!ONE_VALUE.contains(name) && !VALUES.contains(name)) continue;
            List<String> values = new ArrayList<>();
            if (eq > 0 && a.startsWith("--")) {
                values.add(a.substring(eq + 1));
            } else {
                while (i + 1 < argv.size() && !argv.get(i + 1).startsWith("-") && (values.isEmpty() || VALUES.contains(name))) values.add(argv.get(++i));
            }
            if (values.isEmpty() || values.stream().anyMatch(String::isEmpty) || values.stream().mapToInt(String::length).sum() > MAX_CHARS) continue;
            out.add(name);
            out.addAll(values);
        }
        return out;
    }
}
