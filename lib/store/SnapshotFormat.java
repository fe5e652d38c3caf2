package store;

import base.Json;
import base.ConversationId;
import tmux.Tmux;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The snapshot file format. A '#' header line, then one line per session, tab-separated: name,
 * cwd, conversation id or '-', the conversation's starting directory or '-', its assistant's
 * home or '-' (the default, such as ~/.claude), and why the conversation is not running or '-'.
 * Since v3, each session line is followed by its windows and panes, on lines that start with a
 * tab (a session name is never empty, so no session line does):
 * <pre>
 *   \twindow\tINDEX\tFLAGS\tNAME\tLAYOUT                 FLAGS: active, zoomed, auto (comma-separated) or '-'
 *   \tpane\tWINDOW.INDEX\tFLAGS\tCWD\tCONVERSATION\tCONVERSATION_CWD\tHOME\tNOT_RUNNING\tOPTIONS\tPROGRAM\tTMUX_PANE\tASSISTANT
 * </pre>
 * OPTIONS (the launch options carried to the resume) and PROGRAM are JSON arrays of strings or
 * '-'; TMUX_PANE the live pane it was (%id@server-start) or '-'; ASSISTANT (v5) which assistant
 * runs the conversation, or '-' for none (a pane line without it, of v4 or older, ran claude). A
 * session kept after its tmux server died has, right after its session line,
 * {@code \tended\tSERVER\tNOTICED\tCRASH} ({@link Ended}); the header's last field
 * {@code server PID@START@BOOT} names the server the live rows were listed from (v4), and the
 * field before it, {@code cgroup PATH}, the cgroup it ran in, when known. With
 * windows, the session line is a summary (its active pane's cwd, its main conversation) for a
 * reader's eye and grep; the panes are what counts. Tab, newline, CR and backslash inside a
 * field are written as \t \n \r \\. The older six-, five- and three-column forms (no window
 * lines) read too, as claude's.
 */
public final class SnapshotFormat {

    /** A line that could not be read (1-based), for the log: the row is skipped, the rest goes on. */
    public record Problem(int line, String text) {}

    /** A file's rows, the lines that did not read, and the tmux server its live rows were listed from (null: not known). */
    public record Parsed(List<SavedSession> rows, List<Problem> problems, Tmux.Server server) {
        public Parsed(List<SavedSession> rows, List<Problem> problems) {
            this(rows, problems, null);
        }
    }

    public static final String HEADER = "# t3-tmux snapshot v5\tsession\tcwd\tconversation\tconversation_cwd\thome\tnot_running"
            + "\t(then its windows and panes, each line starting with a tab: see SnapshotFormat.java)";
    private static final String NONE = "-";
    /** The header's last field, when the live rows' server is known: {@code server PID@START}. */
    private static final String SERVER = "server ";
    /** The header's field before it, when that server's cgroup is known: {@code cgroup PATH}. */
    private static final String CGROUP = "cgroup ";
    private static final ObjectMapper JSON = Json.MAPPER;
    /** An assistant's name as a pane line gives it; one this release does not know still reads (restore says so, and keeps the id). */
    private static final String ASSISTANT = "[a-z][a-z0-9-]{0,31}";

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

    public static String format(List<SavedSession> rows) {
        return format(rows, null);
    }

    /** {@code rows} as a file; {@code server}: the tmux server the live rows were listed from (null: not known). */
    public static String format(List<SavedSession> rows, Tmux.Server server) {
        StringBuilder b = new StringBuilder(HEADER);
        // The cgroup before the server: a release that reads only the header's last field still finds the server.
        if (server != null && server.cgroup() != null) b.append('\t').append(CGROUP).append(escape(server.cgroup()));
        if (server != null) b.append('\t').append(SERVER).append(server.key());
        b.append('\n');
        for (SavedSession r : rows) {
            b.append(escape(r.session())).append('\t')
             .append(escape(r.cwd())).append('\t')
             .append(orNone(r.conversation())).append('\t')
             .append(orNone(r.conversationCwd())).append('\t')
             .append(orNone(r.home())).append('\t')
             .append(orNone(NotRunning.text(r.notRunning()))).append('\n');
            if (r.ended() != null) {
                b.append("\tended\t").append(escape(r.ended().server())).append('\t').append(r.ended().noticed()).append('\t')
                 .append(orNone(r.ended().crash())).append('\n');
            }
            for (SavedWindow w : r.windows()) {
                List<String> on = new ArrayList<>();
                if (w.active()) on.add("active");
                if (w.zoomed()) on.add("zoomed");
                if (w.autoName()) on.add("auto");
                String flags = on.isEmpty() ? NONE : String.join(",", on);
                b.append("\twindow\t").append(w.index()).append('\t').append(flags).append('\t')
                 .append(escape(w.name())).append('\t').append(escape(w.layout())).append('\n');
                for (SavedPane p : w.panes()) {
                    b.append("\tpane\t").append(p.window()).append('.').append(p.index()).append('\t')
                     .append(p.active() ? "active" : NONE).append('\t')
                     .append(escape(p.cwd())).append('\t')
                     .append(orNone(p.conversation())).append('\t')
                     .append(orNone(p.conversationCwd())).append('\t')
                     .append(orNone(p.home())).append('\t')
                     .append(orNone(NotRunning.text(p.notRunning()))).append('\t')
                     .append(json(p.options())).append('\t')
                     .append(json(p.program())).append('\t')
                     .append(orNone(p.tmuxPane())).append('\t')
                     .append(orNone(p.assistant())).append('\n');
                }
            }
        }
        return b.toString();
    }

    /** Reads raw bytes: bytes that are not UTF-8 cost the rows they are in, not the file. */
    public static Parsed parse(byte[] raw) {
        return parse(new String(raw, StandardCharsets.UTF_8));
    }

    /**
     * Reads rows; only the first line may be a '#' header, so a session named "#x" is still a row.
     * A bad window or pane line costs that window or pane (the session comes back with the rest);
     * a session whose every window was bad keeps its summary line, as an older file's row.
     */
    public static Parsed parse(String text) {
        List<SavedSession> rows = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        Block block = null; // the session being read, with its windows so far
        Tmux.Server server = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (i == 0 && line.startsWith("#")) {
                String cgroup = null;
                for (String field : line.split("\t")) {
                    if (field.startsWith(SERVER)) server = Tmux.Server.parse(field.substring(SERVER.length())).orElse(null);
                    if (field.startsWith(CGROUP)) cgroup = unescape(field.substring(CGROUP.length()));
                }
                if (server != null && cgroup != null && cgroup.startsWith("/")) server = server.withCgroup(cgroup);
                continue;
            }
            if (line.isEmpty()) continue;
            boolean detail = line.startsWith("\t");
            if (!detail && block != null) {
                rows.add(block.close(problems, i));
                block = null;
            }
            // A NUL cannot be in a path or a name; U+FFFD is what a byte that is not UTF-8 became.
            if (line.indexOf('\0') >= 0 || line.indexOf('\uFFFD') >= 0) {
                problems.add(new Problem(i + 1, "a NUL or a byte that is not UTF-8"));
                if (block != null && line.startsWith("\twindow\t")) block.window(null);
                continue;
            }
            String[] f = line.split("\t", -1);
            if (detail) {
                if (block == null) problems.add(new Problem(i + 1, "a window or pane line without its session line (missing or bad)"));
                else if (f[1].equals("window")) block.window(window(f, i + 1, problems));
                else if (f[1].equals("ended")) block.ended(ended(f, i + 1, problems));
                else if (f[1].equals("pane")) block.pane(f, i + 1, problems);
                else problems.add(new Problem(i + 1, "a line starting with a tab is a window, pane or ended line; this is none of them"));
                continue;
            }
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
            if (uuid != null && !ConversationId.isId(uuid)) {
                problems.add(new Problem(i + 1, "conversation id is not one an assistant gives"));
                continue;
            }
            block = new Block(new SavedSession(session, unescape(f[1]), uuid, field(f, 3), field(f, 4), uuid == null ? null : NotRunning.of(field(f, 5))));
        }
        if (block != null) rows.add(block.close(problems, lines.length));
        return new Parsed(rows, problems, server);
    }

    /** A session line and the window and pane lines read after it so far. */
    private static final class Block {
        private final SavedSession summary;
        private final List<SavedWindow> windows = new ArrayList<>();
        private SavedWindow window; // the window pane lines attach to; null after a bad window line
        private final List<SavedPane> panes = new ArrayList<>();

        private Ended ended;

        Block(SavedSession summary) { this.summary = summary; }

        void ended(Ended e) {
            if (e != null) ended = e;
        }

        void window(SavedWindow next) {
            flush();
            window = next;
        }

        void pane(String[] f, int line, List<Problem> problems) {
            if (window == null) problems.add(new Problem(line, "a pane line without its window (the window line was bad or missing)"));
            else SnapshotFormat.pane(f, window.index(), line, problems).ifPresent(panes::add);
        }

        private void flush() {
            if (window != null) windows.add(window.withPanes(panes));
            panes.clear();
        }

        /** The row; windows left without a readable pane are dropped (a problem each). */
        SavedSession close(List<Problem> problems, int line) {
            flush();
            List<SavedWindow> kept = new ArrayList<>();
            for (SavedWindow w : windows) {
                if (w.panes().isEmpty()) problems.add(new Problem(line, "session '" + summary.session() + "': window " + w.index() + " has no readable pane; left out"));
                else if (kept.stream().anyMatch(k -> k.index() == w.index())) problems.add(new Problem(line, "session '" + summary.session() + "': window " + w.index() + " twice; the second left out"));
                else kept.add(w);
            }
            return (kept.isEmpty() ? summary : SavedSession.of(summary.session(), kept)).withEnded(ended);
        }
    }

    /** {@code \tended\tSERVER\tNOTICED\tCRASH|-}; a line that does not read costs the mark, not the session (it is kept as live was). */
    private static Ended ended(String[] f, int line, List<Problem> problems) {
        if (f.length < 5) {
            problems.add(new Problem(line, "an ended line has 5 fields, this has " + f.length));
            return null;
        }
        try {
            return new Ended(unescape(f[2]), java.time.Instant.parse(f[3]), field(f, 4));
        } catch (java.time.format.DateTimeParseException e) {
            problems.add(new Problem(line, "an ended line's time '" + f[3] + "' is not ISO 8601"));
            return null;
        }
    }

    private static SavedWindow window(String[] f, int line, List<Problem> problems) {
        if (f.length < 6) {
            problems.add(new Problem(line, "a window line has 6 fields, this has " + f.length));
            return null;
        }
        Integer index = index(f[2]);
        if (index == null) {
            problems.add(new Problem(line, "window index '" + f[2] + "' is not a number"));
            return null;
        }
        List<String> flags = List.of(f[3].split(","));
        SavedWindow w = SavedWindow.at(index).layout(unescape(f[5])).active(flags.contains("active")).zoomed(flags.contains("zoomed"));
        return flags.contains("auto") ? w.autoNamed(unescape(f[4])) : w.named(unescape(f[4]));
    }

    private static Optional<SavedPane> pane(String[] f, int window, int line, List<Problem> problems) {
        if (f.length < 11) {
            problems.add(new Problem(line, "a pane line has at least 11 fields, this has " + f.length));
            return Optional.empty();
        }
        String[] at = f[2].split("\\.", -1);
        Integer w = at.length == 2 ? index(at[0]) : null, p = at.length == 2 ? index(at[1]) : null;
        if (w == null || p == null || w != window) {
            problems.add(new Problem(line, "pane '" + f[2] + "' is not WINDOW.INDEX of window " + window));
            return Optional.empty();
        }
        String uuid = f[5].isEmpty() || f[5].equals(NONE) ? null : f[5];
        if (uuid != null && !ConversationId.isId(uuid)) {
            problems.add(new Problem(line, "conversation id is not one an assistant gives"));
            return Optional.empty();
        }
        String assistant = field(f, 12);
        if (assistant != null && !assistant.matches(ASSISTANT)) {
            problems.add(new Problem(line, "assistant '" + assistant + "' is not a name (lower-case letters, digits, '-')"));
            return Optional.empty();
        }
        List<String> options = strings(f[9]), program = strings(f[10]);
        if (options == null || program == null) {
            problems.add(new Problem(line, "launch options or program is not a JSON array of strings"));
            return Optional.empty();
        }
        return Optional.of(SavedPane.at(w, p).active(f[3].equals("active")).cwd(unescape(f[4])).conversation(uuid, field(f, 6), field(f, 7)).assistant(uuid == null ? null : assistant)
                .withNotRunning(NotRunning.of(field(f, 8))).options(uuid == null ? List.of() : options).program(program).tmuxPane(field(f, 11)));
    }

    private static Integer index(String s) {
        try {
            int n = Integer.parseInt(s);
            return n >= 0 ? n : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String json(List<String> strings) {
        if (strings.isEmpty()) return NONE;
        try {
            return escape(JSON.writeValueAsString(strings));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a list of strings always writes
        }
    }

    /** A JSON array of strings (none for '-'), or null when the field is not one. */
    private static List<String> strings(String field) {
        if (field.isEmpty() || field.equals(NONE)) return List.of();
        try {
            com.fasterxml.jackson.databind.JsonNode a = JSON.readTree(unescape(field));
            if (a == null || !a.isArray()) return null;
            List<String> l = new ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode x : a) {
                if (!x.isTextual() || x.asText().indexOf('\0') >= 0) return null; // argv holds strings without NUL, nothing else
                l.add(x.asText());
            }
            return l;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static String field(String[] f, int i) {
        return i < f.length && !f[i].isEmpty() && !f[i].equals(NONE) ? unescape(f[i]) : null;
    }

    private static String orNone(String s) {
        return s == null ? NONE : escape(s);
    }
}
