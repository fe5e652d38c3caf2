package base;

import java.io.PrintStream;

/**
 * Log lines for an operator. Under systemd (JOURNAL_STREAM set) every line goes to stdout with
 * a syslog priority prefix ("<3>", "<4>", "<6>") that journald turns into the entry's priority;
 * on a terminal, warnings and errors go to stderr with a plain word instead.
 */
public final class Log {
    private static final boolean JOURNAL = System.getenv("JOURNAL_STREAM") != null;
    /** Set when stdout carries a document (--json): then every log line goes to stderr. */
    private static volatile boolean stdoutIsData;

    private Log() {}

    /** From now on stdout is for data only (one JSON document); log lines go to stderr. */
    public static void keepStdoutForData() {
        stdoutIsData = true;
    }

    public static void info(String fmt, Object... args) { emit(6, "", System.out, fmt, args); }

    public static void warn(String fmt, Object... args) { emit(4, "warning: ", System.err, fmt, args); }

    public static void error(String fmt, Object... args) { emit(3, "error: ", System.err, fmt, args); }

    private static void emit(int priority, String word, PrintStream tty, String fmt, Object[] args) {
        String text = args.length == 0 ? fmt : String.format(fmt, args);
        // One journal entry per line: a hostile name with a newline must not forge another entry.
        text = text.replace("\r", "\\r").replace("\n", "\\n");
        if (JOURNAL) {
            PrintStream out = stdoutIsData ? System.err : System.out;
            out.println("<" + priority + ">" + text);
            out.flush();
        } else if (stdoutIsData) {
            System.err.println(word + text);
            System.err.flush();
        } else {
            tty.println(word + text);
            tty.flush();
        }
    }
}
