package restore;

import base.Accounts;
import assistant.Assistant;
import assistants.Running;
import store.SavedPane;
import base.Log;
import tmux.PaneScript;
import base.Procfs;
import base.Settings;
import tmux.Tmux;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starting the conversations a restore brought back without swamping the machine whose memory
 * pressure killed them: every pane waits at its gate, and this presses Enter in them, most
 * recently active first, at most {@code concurrency} assistants starting at once, one user's one
 * at a time and {@code userGap} apart (they share her login), none while memory is short, for at
 * most {@code maxWait}. Whatever is left waits for its user's Enter.
 */
public final class Resumer {
    /**
     * A restored pane waiting at its gate: whose, where (its session, and its place there when the
     * session has several panes: "" or " pane 1.2"), which saved pane (its conversation and
     * assistant), when it was last active.
     */
    public record Waiting(Accounts.Account account, Tmux tmux, String session, String place, String paneId, int panePid, SavedPane pane,
                          Instant lastActive) {
        public String conversation() { return pane.conversation(); }
    }

    /**
     * The panes pressed (or entered by their user first: starting either way), those left waiting
     * for their user (and why), those their user left at the gate (Ctrl-C) or that are gone, and
     * the most assistants starting at once.
     */
    public record Result(List<Waiting> pressed, List<Waiting> waiting, List<Waiting> left, String why, int peakStarting) {}

    /** An assistant still starting after this counts as started: one slow start must not hold up the rest. */
    private static final Duration SLOW_START = Duration.ofSeconds(60);

    private Resumer() {}

    public static Result resume(List<Waiting> all, Settings.Resume policy) throws InterruptedException {
        if (all.isEmpty()) return new Result(List.of(), List.of(), List.of(), "", 0);
        if (policy.lazy()) return new Result(List.of(), all, List.of(), "T3_RESUME=lazy", 0);
        List<Waiting> queue = new ArrayList<>(all);
        queue.sort(Comparator.comparing(Waiting::lastActive, Comparator.nullsLast(Comparator.reverseOrder())));
        long end = System.nanoTime() + policy.maxWait().toNanos();
        Map<Waiting, Long> starting = new LinkedHashMap<>();
        // When each user's last start got going: her next waits policy.userGap() after it.
        Map<String, Long> userFree = new HashMap<>();
        List<Waiting> pressed = new ArrayList<>(), waiting = new ArrayList<>(), left = new ArrayList<>();
        String why = "";
        int peak = 0;
        while (!queue.isEmpty()) {
            Procfs procs = Procfs.read();
            long now = System.nanoTime();
            for (Waiting done : stillStarting(starting, procs)) userFree.put(done.account().name(), now + policy.userGap().toNanos());
            if (now >= end) {
                why = "T3_RESUME_WAIT (" + policy.maxWait().toSeconds() + " s) is up";
                break;
            }
            // Within the machine's budget, the first (most recently active) of a user who has none starting and whose gap is over:
            // one user's assistants share one login, which many starts at once can log out; other users' go on meanwhile.
            Waiting w = starting.size() >= policy.concurrency() ? null : queue.stream()
                    .filter(x -> starting.keySet().stream().noneMatch(y -> y.account().name().equals(x.account().name())))
                    .filter(x -> userFree.getOrDefault(x.account().name(), 0L) - now <= 0)
                    .findFirst().orElse(null);
            if (w == null) {
                Thread.sleep(200); // each look is a read of /proc: as often as before per-user turns, no more
                continue;
            }
            Procfs.Memory mem = procs.memory();
            long floor = Settings.bytes(policy.minFree(), mem.total());
            if (mem.available() < floor) {
                why = "available memory (" + (mem.available() >> 20) + " MiB) is below T3_RESUME_MIN_FREE (" + policy.minFree() + ")";
                break;
            }
            queue.remove(w);
            String tmp = tmpTooSmall(w.pane().assistant(), java.nio.file.Path.of("/tmp"));
            if (tmp != null) {
                waiting.add(w); // this one only: the others may leave nothing there
                Log.warn("%s: '%s'%s waits for its Enter: %s", w.account().name(), w.session(), w.place(), tmp);
                continue;
            }
            // She may have got there first: nothing is typed into a pane she is using. Her own Enter
            // counts as one of her starts (the next waits for it as for ours); her Ctrl-C is her choice.
            PaneScript.Gate gate = PaneScript.gate(procs, w.panePid());
            if (gate == PaneScript.Gate.LEFT) {
                Log.info("%s: '%s'%s (pane %s): not started: its user left its gate (Ctrl-C), or the pane is gone", w.account().name(), w.session(), w.place(), w.paneId());
                left.add(w);
                continue;
            }
            if (gate == PaneScript.Gate.WAITING) {
                Tmux.Press press = w.tmux().pressEnterAtGate(w.paneId(), w.panePid());
                if (press != Tmux.Press.PRESSED) {
                    Log.warn("%s: '%s'%s (pane %s) waits for its user's Enter: %s", w.account().name(), w.session(), w.place(), w.paneId(),
                            press == Tmux.Press.HELD ? "its pane is in a mode, synchronized, or not the one made" : "tmux did not take the key");
                    waiting.add(w);
                    continue;
                }
            }
            starting.put(w, System.nanoTime());
            pressed.add(w);
            peak = Math.max(peak, starting.size());
        }
        waiting.addAll(queue);
        return new Result(pressed, waiting, left, why, peak);
    }

    /** Room an assistant's start must leave in /tmp besides what it leaves there: a full /tmp breaks everyone's programs. */
    private static final long TMP_SPARE = 256L << 20;

    /** Why {@code assistant} must not start now for what it leaves in {@code tmp} (null: room enough). */
    public static String tmpTooSmall(String assistant, java.nio.file.Path tmp) {
        long leaves = assistants.Assistants.named(assistant).map(Assistant::leavesInTmp).orElse(0L);
        if (leaves == 0) return null;
        try {
            long free = java.nio.file.Files.getFileStore(tmp).getUsableSpace();
            return free >= leaves + TMP_SPARE ? null
                    : tmp + " has " + (free >> 20) + " MiB free; each " + assistant + " start leaves about " + (leaves >> 20) + " MiB there for good";
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** Drops the panes whose assistant has started (or fell through, or is slow) from {@code starting}; returns them. */
    private static List<Waiting> stillStarting(Map<Waiting, Long> starting, Procfs procs) {
        long now = System.nanoTime();
        List<Waiting> done = new ArrayList<>();
        starting.entrySet().removeIf(e -> {
            boolean up = now - e.getValue() > SLOW_START.toNanos() || started(e.getKey(), procs);
            if (up) done.add(e.getKey());
            return up;
        });
        return done;
    }

    /** Started: the user's assistant below the pane has got going (claude: written its live record); or done: the pane fell through to the shell. */
    static boolean started(Waiting w, Procfs procs) {
        Running running = new Running(procs, w.account());
        Optional<Running.Found> assistant = running.in(w.panePid());
        if (assistant.isPresent()) return running.started(assistant.get());
        Optional<Procfs.Proc> top = procs.get(w.panePid());
        return top.isEmpty() || !PaneScript.isPaneScript(top.get());
    }
}
