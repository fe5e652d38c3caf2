package assistant;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The launch options of an assistant a user chose that are carried to her conversation's resume:
 * an allowlist. An option outside it might start work, change where the assistant writes, or
 * name a conversation of its own. Values that are empty or longer than {@link #MAX_CHARS} leave
 * their option behind: a snapshot row is no place for a document.
 */
public record LaunchOptions(Set<String> oneValue, Set<String> values, Set<String> flags) {
    static final int MAX_CHARS = 4096;

    /** The allowlisted options in a process's argv, in order, each with its value(s); nothing else. */
    public List<String> carried(List<String> argv) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("--")) break; // what follows is a prompt, not options
            if (flags.contains(a)) {
                if (!out.contains(a)) out.add(a);
                continue;
            }
            int eq = a.indexOf('=');
            String name = a.startsWith("--") && eq > 0 ? a.substring(0, eq) : a;
            if (!oneValue.contains(name) && !values.contains(name)) continue;
            List<String> vs = new ArrayList<>();
            if (eq > 0 && a.startsWith("--")) {
                vs.add(a.substring(eq + 1));
            } else {
                while (i + 1 < argv.size() && !argv.get(i + 1).startsWith("-") && (vs.isEmpty() || values.contains(name))) vs.add(argv.get(++i));
            }
            // A value that starts with '-' would come back as an option of its own (--model=-c...).
            if (vs.isEmpty() || vs.stream().anyMatch(v -> v.isEmpty() || v.startsWith("-")) || vs.stream().mapToInt(String::length).sum() > MAX_CHARS) continue;
            out.add(name);
            out.addAll(vs);
        }
        return out;
    }
}
