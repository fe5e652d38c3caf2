import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The snapshot file format. A '#' header line, then one row per session, tab-separated:
 * name, cwd, conversation uuid or '-', the conversation's starting directory or '-', its claude
 * config root or '-' (the default ~/.claude), and why the conversation is not running or '-'.
 * Tab, newline, CR and backslash inside a field are written as \t \n \r \\. The older five- and
 * three-column forms read too.
 */
public final class SnapshotFormat {
    /**
     * One session's wiring. {@code notRunning} is null while the conversation runs (or there is
     * none); otherwise why it does not, so the id is kept for a later resume instead of dropped.
     */
    public record Row(String session, String cwd, String conversation, String conversationCwd, String claudeConfig, String notRunning) {
        public Row(String session, String cwd, String conversation, String conversationCwd, String claudeConfig) {
            this(session, cwd, conversation, conversationCwd, claudeConfig, null);
        }

        public boolean hasConversation() { return conversation != null; }

        /** A conversation that was running when saved. */
        public boolean running() { return conversation != null && notRunning == null; }

        /**
         * A conversation a blanket or boot restore resumes: running when saved, or stopped by a
         * crash or by a restore that failed; not one the user exited.
         */
        public boolean wanted() { return conversation != null && (notRunning == null || !notRunning.startsWith(EXITED)); }

        public Row withNotRunning(String why) {
            return new Row(session, cwd, conversation, conversationCwd, claudeConfig, why);
        }
    }

    /**
     * The first word of a not-running reason says who stopped it: the user (or nobody can tell:
     * left alone by blanket restores), a crash (its live record left behind), or a restore that
     * failed (both brought back running by the next blanket or boot restore).
     */
    public static final String EXITED = "exited: ", KILLED = "killed: ", RESTORE_FAILED = "restore failed: ";

    /** A line that could not be read (1-based), for the log: the row is skipped, the rest goes on. */
    public record Problem(int line, String text) {}

    public record Parsed(List<Row> rows, List<Problem> problems) {}

    public static final String HEADER = "# t3-tmux snapshot v2\tsession\tcwd\tconversation\tconversation_cwd\tclaude_config\tnot_running";
    private static final String NONE = "-";

    private SnapshotFormat() {}

    public static String escape(String field) {
        StringBuilder b = new StringBuilder(field.length());
        for (char c : field.toCharArray()) {
            switch (c) {
                case '\\': b.append("\\\\"); break;
                case '\t': b.append("\\t"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }

    public static String unescape(String field) {
        StringBuilder b = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c != '\\' || i + 1 == field.length()) {
                b.append(c);
                continue;
            }
            char n = field.charAt(++i);
            switch (n) {
                case 't': b.append('\t'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                default: b.append(n);
            }
        }
        return b.toString();
    }

    public static String format(List<Row> rows) {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (Row r : rows) {
            b.append(escape(r.session())).append('\t')
             .append(escape(r.cwd())).append('\t')
             .append(orNone(r.conversation())).append('\t')
             .append(orNone(r.conversationCwd())).append('\t')
             .append(orNone(r.claudeConfig())).append('\t')
             .append(orNone(r.notRunning())).append('\n');
        }
        return b.toString();
    }

    /** Reads raw bytes: bytes that are not UTF-8 cost the rows they are in, not the file. */
    public static Parsed parse(byte[] raw) {
        return parse(new String(raw, StandardCharsets.UTF_8));
    }

    /** Reads rows; only the first line may be a '#' header, so a session named "#x" is still a row. */
    public static Parsed parse(String text) {
        List<Row> rows = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isEmpty() || (i == 0 && line.startsWith("#"))) continue;
            // A NUL cannot be in a path or a name; U+FFFD is what a byte that is not UTF-8 became.
            if (line.indexOf('\0') >= 0 || line.indexOf('\uFFFD') >= 0) {
                problems.add(new Problem(i + 1, "a NUL or a byte that is not UTF-8"));
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length < 3) {
                problems.add(new Problem(i + 1, "expected at least 3 tab-separated fields, found " + f.length));
                continue;
            }
            String session = unescape(f[0]);
            String uuid = f[2].isEmpty() || f[2].equals(NONE) ? null : f[2];
            if (session.isEmpty()) {
                problems.add(new Problem(i + 1, "empty session name"));
                continue;
            }
            if (uuid != null && !Conversations.isUuid(uuid)) {
                problems.add(new Problem(i + 1, "conversation id is not a UUID"));
                continue;
            }
            rows.add(new Row(session, unescape(f[1]), uuid, field(f, 3), field(f, 4), uuid == null ? null : field(f, 5)));
        }
        return new Parsed(rows, problems);
    }

    private static String field(String[] f, int i) {
        return i < f.length && !f[i].isEmpty() && !f[i].equals(NONE) ? unescape(f[i]) : null;
    }

    private static String orNone(String s) {
        return s == null ? NONE : escape(s);
    }
}
