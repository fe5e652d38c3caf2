package save;

import base.Procfs;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The program a pane runs in its foreground, when it is one worth starting again after a
 * restore (T3_RESTORE_PROGRAMS: an editor, a pager, a monitor), as tmux-resurrect's
 * {@code @resurrect-processes} does. Anything else comes back as a shell.
 */
public final class Programs {
    /** A longer command line is not kept: it is somebody's data, not a program worth starting again. */
    static final int MAX_ARGV_CHARS = 8192;

    private Programs() {}

    /**
     * The argv of the foreground job in the pane whose process is {@code panePid}, when its
     * program's name (argv[0]'s last part) is in {@code allowed} and it is the user's own,
     * inside the pane; else empty.
     */
    public static List<String> running(Procfs procs, int panePid, int uid, List<String> allowed) {
        if (allowed.isEmpty()) return List.of();
        Optional<Procfs.Proc> pane = procs.get(panePid);
        if (pane.isEmpty()) return List.of();
        // The terminal's foreground process group: its leader is the job the user started (less, not the pager man runs).
        int fg = pane.get().tpgid() > 0 ? pane.get().tpgid() : panePid;
        Optional<Procfs.Proc> job = procs.selfAndDescendants(panePid).stream().filter(p -> p.pid() == fg).findFirst();
        if (job.isEmpty() || job.get().uid() != uid) return List.of();
        List<String> argv = job.get().argv();
        if (argv.isEmpty() || argv.stream().mapToInt(String::length).sum() > MAX_ARGV_CHARS) return List.of();
        return allowed.contains(name(argv.get(0))) ? argv : List.of();
    }

    /** A program's name as the allowlist says it: argv[0] without its directory (and a login shell's '-'). */
    public static String name(String argv0) {
        if (argv0.isEmpty() || argv0.indexOf('\0') >= 0) return "";
        Path p = Path.of(argv0).getFileName();
        String n = p == null ? "" : p.toString();
        return n.startsWith("-") ? n.substring(1) : n;
    }
}
