package tmux;

import base.ConversationId;
import base.Procfs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a pane t3 makes runs (argv only: every name, path and id reaches it as an argument, never
 * as code): an assistant resumed in its conversation's starting directory behind an optional
 * gate, or a program, each then the user's login shell so the pane stays; optionally after
 * printing the screen the pane showed. A save recognises a pane still at its gate by its argv
 * (the conversation is wanted there), and a restore tells from it whether the assistant started.
 */
public final class PaneScript {
    /** What the pane script prints when the assistant ends, before its status: ResumeCheck reads it back. */
    public static final java.util.regex.Pattern EXITED = java.util.regex.Pattern.compile("\\[t3-restore\\] [a-z][a-z0-9-]* exited \\((\\d+)\\)");
    /** The pane script's status when it cannot enter the conversation's starting directory. */
    public static final int CANNOT_ENTER = 200;

    /** What a pane waiting for its Enter prints first (the conversation id follows). */
    static final String WAITING = "[t3-restore] conversation ";

    /**
     * The shell script every restored or healed pane runs: the assistant in the conversation's
     * starting directory, then the user's login shell, so the session stays when it exits. With
     * gate "wait" it first says which conversation ran here and waits for Enter: the restore
     * presses it for as many as its budget allows (most recent first); the rest wait for their
     * user (Ctrl-C gives the shell). Its arguments name the assistant, so a save reads it back.
     */
    static final String RESUME = resumeScript("dir=$1 shell=$2 gate=$3 id=$4 assistant=$5 note=$6; shift 6", "$assistant", true);

    /** The scripts of earlier releases: a pane may still wait at its gate across an upgrade (before the note; before assistants were named). */
    private static final String RESUME_UNNOTED = resumeScript("dir=$1 shell=$2 gate=$3 id=$4 assistant=$5; shift 5", "$assistant", false);
    private static final String RESUME_CLAUDE_ONLY = resumeScript("dir=$1 shell=$2 gate=$3 id=$4; shift 4", "claude", false);

    private static String resumeScript(String arguments, String assistant, boolean noted) {
        List<String> lines = new ArrayList<>(List.of(
                arguments,
                "if [ \"$gate\" = wait ]; then",
                "  trap 'exec \"$shell\" -l' INT",
                "  printf '%s\\n' \"" + WAITING + "$id was running here: press Enter to resume it (Ctrl-C for a shell)\"",
                "  read -r _ || exec \"$shell\" -l",
                "  trap - INT",
                "fi"));
        // One line saying what happened and when, once, above what the assistant draws. The
        // scripts of earlier releases stay byte for byte what those releases ran (a pane at its gate is found by them).
        if (noted) lines.add("[ -z \"$note\" ] || printf '%s\\n' \"$note\"");
        lines.addAll(List.of(
                // A login sh puts ~/.local/bin and the like on PATH, as the user's own login would.
                "( cd -- \"$dir\" || exit " + CANNOT_ENTER + "; exec /bin/sh -lc 'exec \"$@\"' sh \"$@\" )",
                "echo \"[t3-restore] " + assistant + " exited ($?); here is your shell\"",
                "exec \"$shell\" -l"));
        return String.join("\n", lines);
    }

    /**
     * What a restored pane runs first when its screen was saved: it waits (at most 20 s) for the
     * restore to put the screen in the paste buffer named by the channel and signal it, prints
     * it, drops the buffer, then execs its own command. The text reaches the pane through the
     * user's tmux, never a command line; the buffer name is the restore's, random.
     */
    static final String SCREEN = String.join("\n",
            "ch=$1; shift",
            "trap '' INT", // a Ctrl-C meant for what comes next must not close the pane meanwhile
            "timeout --foreground 20 tmux wait-for \"$ch\" 2>/dev/null",
            "tmux show-buffer -b \"$ch\" 2>/dev/null && tmux delete-buffer -b \"$ch\" 2>/dev/null",
            "trap - INT",
            "exec \"$@\"");

    /** A program brought back: run from a login sh (the user's PATH), then the login shell, so the pane stays. */
    static final String PROGRAM = String.join("\n",
            "shell=$1; shift",
            "/bin/sh -lc 'exec \"$@\"' sh \"$@\"",
            "exec \"$shell\" -l");

    private PaneScript() {}

    /**
     * {@code command} (assistant {@code assistant} resuming {@code conversation}) run in
     * {@code startDir}, then {@code shell}; {@code gated}: only once Enter is pressed in the pane
     * (by the restore's budget, or the user).
     */
    public static List<String> resume(Path startDir, String shell, boolean gated, String conversation, String assistant, String note, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", RESUME, "t3-restore", startDir.toString(), shell, gated ? "wait" : "go",
                conversation, assistant, note));
        argv.addAll(command);
        return argv;
    }

    /**
     * The line a pane prints as its assistant starts: "t3: resumed conversation 3f2a1b2c… (after a
     * crash, healed at 14:02)". {@code why}: what happened, in words; the time is this machine's.
     */
    public static String note(String conversation, String why, java.time.Instant at) {
        String time = java.time.format.DateTimeFormatter.ofPattern("HH:mm").withZone(java.time.ZoneId.systemDefault()).format(at);
        String shortId = conversation.length() > 8 ? conversation.substring(0, 8) + "\u2026" : conversation;
        return "t3: resumed conversation " + shortId + " (" + why + " at " + time + ")";
    }

    /** {@code program} (an argv) from a login sh, then {@code shell}. */
    public static List<String> program(String shell, List<String> program) {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", PROGRAM, "t3-restore", shell));
        argv.addAll(program);
        return argv;
    }

    /** {@code command}, after the pane prints the screen the restore hands it on {@code channel}. */
    public static List<String> withScreen(String channel, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", SCREEN, "t3-restore", channel));
        argv.addAll(command);
        return argv;
    }

    /** A pane script at its gate: the conversation it waits to resume, which assistant resumes it, and where. */
    public record AtGate(String conversation, String assistant, Path startDir) {}

    /** What the pane script {@code p} waits to resume, when it is one of ours still at its gate. */
    public static Optional<AtGate> waitingFor(Procfs.Proc p) {
        // argv: /bin/sh -c SCRIPT t3-restore DIR SHELL GATE ID ASSISTANT NOTE COMMAND... (earlier: no NOTE; before assistants: no ASSISTANT)
        List<String> a = unwrapped(p.argv());
        boolean named = a.size() > 2 && (a.get(2).equals(RESUME) || a.get(2).equals(RESUME_UNNOTED));
        int least = a.size() > 2 && a.get(2).equals(RESUME) ? 11 : named ? 10 : 9;
        if (!isPaneScript(p) || a.size() < least || !a.get(6).equals("wait") || !ConversationId.isId(a.get(7))) return Optional.empty();
        if (!a.get(4).startsWith("/") || a.get(4).indexOf('\0') >= 0) return Optional.empty();
        return Optional.of(new AtGate(a.get(7), named ? a.get(8) : "claude", Path.of(a.get(4))));
    }

    /** Where a pane waiting at its gate stands now. */
    public enum Gate {
        /** Still at it (or not yet: tmux has not started the script, or it still prints its saved screen): an Enter typed waits for its read. */
        WAITING,
        /** Someone pressed Enter there: its assistant runs, a child of the script. */
        ENTERED,
        /** Someone pressed Ctrl-C there (it is her login shell now), or the pane is gone: a choice, or nothing to start. */
        LEFT
    }

    /** Where the pane whose process is {@code pid} stands at its gate. */
    public static Gate gate(Procfs procs, int pid) {
        Optional<Procfs.Proc> p = procs.get(pid);
        if (p.isEmpty()) return Gate.LEFT;
        if (!isPaneScript(p.get())) return p.get().comm().startsWith("tmux") ? Gate.WAITING : Gate.LEFT; // tmux's own fork, before its exec
        List<String> a = p.get().argv();
        if (a.size() > 2 && a.get(2).equals(SCREEN)) return Gate.WAITING;
        return procs.selfAndDescendants(pid).size() > 1 ? Gate.ENTERED : Gate.WAITING;
    }

    /** The note's words for a pane made again in a live session: by heal in place, or in a window of its own (heal, or a restore by name). */
    public static final String HEALED = "after a crash, healed", BROUGHT_BACK = "; brought back";

    /**
     * What {@code p} waits to resume, when it is a pane made again in a live session (its note says
     * so) that waits at its gate: a later heal offers it to the turns again, where a boot restore's pane waits for its
     * user by design. The note is in argv, hers to write: at worst she has heal press Enter in a
     * pane of her own, as her.
     */
    public static Optional<AtGate> healedAtGate(Procfs procs, Procfs.Proc p) {
        List<String> a = unwrapped(p.argv());
        if (a.size() < 11 || !a.get(2).equals(RESUME) || !(a.get(9).contains("(" + HEALED + " at ") || a.get(9).contains(BROUGHT_BACK + " at "))) {
            return Optional.empty();
        }
        return waitingFor(p).filter(g -> gate(procs, p.pid()) == Gate.WAITING);
    }

    /** Whether {@code p} is still the pane script (not yet the login shell it ends in). */
    public static boolean isPaneScript(Procfs.Proc p) {
        List<String> a = unwrapped(p.argv());
        return a.size() > 2 && (a.get(2).equals(RESUME) || a.get(2).equals(RESUME_UNNOTED) || a.get(2).equals(RESUME_CLAUDE_ONLY));
    }

    /** The command a pane runs once it has printed its saved screen (see {@link #SCREEN}). */
    private static List<String> unwrapped(List<String> argv) {
        return argv.size() > 5 && argv.get(2).equals(SCREEN) ? argv.subList(5, argv.size()) : argv;
    }
}
