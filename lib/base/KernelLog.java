package base;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the kernel logged about OOM kills (dmesg, or the journal's kernel messages): the evidence that a process was
 * killed by memory pressure rather than by someone's choice. A tmux server leaves its socket
 * behind however it ends (kill-server, its last session closed, a crash), so for a server this
 * log is the only thing that tells a crash apart.
 */
public final class KernelLog {
    /** One OOM kill: when, which process (comm, pid) of which uid. */
    public record OomKill(Instant time, int pid, int uid, String task) {}

    /** A process that crashed (the kernel's segfault or traps line): when, which process (comm, pid), how. */
    public record Fault(Instant time, int pid, String task, String how) {}

    /** What the kernel's log says of kills and crashes, read once. */
    public record Lines(List<OomKill> kills, List<Fault> faults) {}

    /** The comm tmux gives its server process. */
    public static final String TMUX_SERVER = "tmux: server";

    // dmesg:      2026-11-24T21:14:12,006896+00:00 oom-kill:constraint=...,task=tmux: server,pid=24067,uid=1001
    // journalctl: 2026-11-24T21:14:12.006896+0000 host kernel: oom-kill:constraint=...
    private static final Pattern OOM = Pattern.compile("^(\\S+) (?:\\S+ kernel: )?oom-kill:.*,task=(.*),pid=(\\d+),uid=(\\d+)\\s*$");
    private static final Pattern OFFSET = Pattern.compile("([+-]\\d\\d)(\\d\\d)$");
    // 2026-11-24T21:14:12,006896+00:00 tmux: server[24067]: segfault at 0 ip 000055d5c8a0b3c1 sp ... error 4 in tmux[...]
    // 2026-11-24T21:14:12,006896+00:00 traps: tmux: server[24067] general protection fault ip:... sp:... error:0 in tmux[...]
    private static final Pattern FAULT = Pattern.compile(
            "^(\\S+) (?:\\S+ kernel: )?(?:traps: )?(.+)\\[(\\d+)\\]:? (segfault at|general protection fault|trap [a-z ]+?|traps) .*$");

    private KernelLog() {}

    /**
     * Every OOM kill the kernel's log still holds: its ring buffer (dmesg), or where that is closed
     * (kernel.dmesg_restrict: anyone but root in single-user mode) this boot's kernel messages in
     * the journal, which a member of adm or systemd-journal may read. None (and a warning saying
     * what heal then cannot see) when neither can be read.
     */
    public static List<OomKill> oomKills() {
        return read().kills();
    }

    /** The kernel's log, as {@link #oomKills} reads it: its OOM kills and its crashes. */
    public static Lines read() {
        String text = text();
        return new Lines(parse(text), faults(text));
    }

    private static String text() {
        Exec.Result r = Exec.run(List.of("dmesg", "--kernel", "--time-format=iso"), Duration.ofSeconds(5));
        Exec.Result j = Exec.run(List.of("journalctl", "--dmesg", "--boot", "--output=short-iso-precise", "--no-pager",
                        "--grep=oom-kill:|segfault at|traps:"),
                Duration.ofSeconds(10));
        return text(r, j);
    }

    /** The text to read evidence from, given what {@code dmesg} ({@code r}) and {@code journalctl --dmesg} ({@code j}) answered. */
    public static String text(Exec.Result r, Exec.Result j) {
        // Without the right to read it, journalctl says so and shows only what is hers (no kernel
        // line at all; not with --quiet, which hides that); --grep exits 1 when nothing matched.
        boolean closed = j.err().contains("insufficient permissions") || j.err().contains("not seeing messages") || j.err().contains("No journal files");
        boolean journal = !closed && !j.timedOut() && (j.ok() || j.exit() == 1 && !j.out().contains("oom-kill:"));
        // Both where both answer: the ring buffer may have rotated past a line the journal still holds.
        if (r.ok()) return journal ? r.out() + "\n" + j.out() : r.out();
        String dmesg = r.timedOut() ? "timed out" : r.firstErrorLine();
        if (journal) return j.out();
        Log.warn("cannot read the kernel log (dmesg: %s; journalctl --dmesg: %s): an OOM-killed tmux server cannot be told from one that exited, "
                + "so its sessions wait for the next boot or a restore by name%s", dmesg,
                j.timedOut() ? "timed out" : j.err().contains("No journal files") ? "no journal here" : closed ? "not allowed" : j.firstErrorLine(),
                Accounts.isRoot() ? "" : " (an operator can let you read it: adduser YOU systemd-journal)");
        return "";
    }

    /** The crashes (segfault, traps) a kernel log's text holds. */
    public static List<Fault> faults(String text) {
        List<Fault> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher m = FAULT.matcher(line);
            if (!m.matches()) continue;
            try {
                out.add(new Fault(time(m.group(1)), Integer.parseInt(m.group(3)), m.group(2), m.group(4).strip()));
            } catch (RuntimeException e) {
                // a line we cannot read is no evidence
            }
        }
        return out;
    }

    public static List<OomKill> parse(String dmesg) {
        List<OomKill> out = new ArrayList<>();
        for (String line : dmesg.split("\n")) {
            Matcher m = OOM.matcher(line);
            if (!m.matches()) continue;
            try {
                out.add(new OomKill(time(m.group(1)), Integer.parseInt(m.group(3)),
                        Integer.parseInt(m.group(4)), m.group(2)));
            } catch (RuntimeException e) {
                // a line we cannot read is no evidence
            }
        }
        return out;
    }

    /** dmesg's 2026-11-24T21:14:12,006896+00:00 or journalctl's 2026-11-24T21:14:12.006896+0000. */
    private static Instant time(String stamp) {
        String iso = OFFSET.matcher(stamp.replace(',', '.')).replaceFirst("$1:$2");
        return OffsetDateTime.parse(iso).toInstant();
    }
}
