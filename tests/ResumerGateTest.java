import base.Accounts;
import base.Procfs;
import base.Settings;
import restore.Resumer;
import store.SavedPane;
import tmux.PaneScript;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Resumer types Enter only into a pane waiting at its gate, on a real tmux server (private
 * socket, the current user): not into one in copy mode (the key would be the mode's), not into
 * a synchronized window (it would go to every pane of it), not into one its user left with
 * Ctrl-C (her choice), nor one gone. Each pane's command leaves a file when it runs.
 */
class ResumerGateTest {
    static final String ID = "0f3c2a10-2b3c-4d5e-8f90-123456789abc";
    @TempDir Path tmp;
    Tmux tmux;
    Accounts.Account me;

    @BeforeEach
    void setUp() {
        me = Accounts.byUid(Accounts.currentUid()).orElseThrow();
        tmux = new Tmux(me, tmp, Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        tmux.run("kill-server");
    }

    /** A session whose pane waits at its gate to run {@code touch MARKER}; its Waiting. */
    Resumer.Waiting atGate(String session) throws Exception {
        return atGate(session, List.of("touch", tmp.resolve(session + ".ran").toString()));
    }

    /** A session whose pane waits at its gate to run {@code command}; its Waiting. */
    Resumer.Waiting atGate(String session, List<String> command) throws Exception {
        List<String> argv = PaneScript.resume(tmp, "/bin/sh", true, ID, "claude", "", command);
        assertTrue(tmux.newSession(session, tmp, Map.of(), argv).ok(), session);
        String[] f = tmux.run("display-message", "-p", "-t", "=" + session + ":", "#{pane_id} #{pane_pid}").out().strip().split(" ");
        int pid = Integer.parseInt(f[1]);
        assertTrue(Children.waitFor(() -> Procfs.readOne(pid).flatMap(PaneScript::waitingFor).isPresent(), Duration.ofSeconds(5)), session + " at its gate");
        Thread.sleep(200); // at its read
        return new Resumer.Waiting(me, tmux, session, "", f[0], pid, SavedPane.at(0, 0).conversation(ID, tmp.toString(), null).assistant("claude"),
                Instant.now());
    }

    boolean ran(String session) {
        return Files.exists(tmp.resolve(session + ".ran"));
    }

    static Settings.Resume eager() {
        return new Settings.Resume(false, 4, "0%", Duration.ofSeconds(30), Duration.ZERO);
    }

    @Test
    void enterGoesOnlyIntoAPaneWaitingAtItsGate() throws Exception {
        // She pressed Enter herself and is typing a line she has not sent: one more Enter would send it.
        // Made first, so least recent and last in turn: what it runs never gets going, and her next would wait for it.
        Path typed = tmp.resolve("typed");
        Resumer.Waiting entered = atGate("entered", List.of("sh", "-c", "read -r line; echo \"$line\" > \"$1\"", "sh", typed.toString()));
        Resumer.Waiting plain = atGate("plain"), copy = atGate("copy"), sync = atGate("sync"), declined = atGate("declined"), gone = atGate("gone");
        assertTrue(tmux.run("send-keys", "-t", entered.paneId(), "Enter").ok());
        assertTrue(Children.waitFor(() -> PaneScript.gate(Procfs.read(), entered.panePid()) == PaneScript.Gate.ENTERED, Duration.ofSeconds(5)));
        assertTrue(tmux.run("send-keys", "-t", entered.paneId(), "-l", "half a thought").ok());
        assertTrue(tmux.run("copy-mode", "-t", copy.paneId()).ok());
        assertTrue(tmux.run("split-window", "-d", "-t", sync.paneId(), "cat").ok());
        assertTrue(tmux.run("set-option", "-w", "-t", sync.paneId(), "synchronize-panes", "on").ok());
        assertTrue(tmux.run("send-keys", "-t", declined.paneId(), "C-c").ok());
        assertTrue(Children.waitFor(() -> PaneScript.gate(Procfs.read(), declined.panePid()) == PaneScript.Gate.LEFT, Duration.ofSeconds(5)), "Ctrl-C: her shell");
        assertTrue(tmux.run("kill-session", "-t", "=gone").ok());

        List<Resumer.Waiting> all = new ArrayList<>(List.of(plain, copy, sync, declined, gone, entered));
        Resumer.Result r = Resumer.resume(all, eager());
        assertEquals(java.util.Set.of(plain, entered), java.util.Set.copyOf(r.pressed()), "hers counts as a start");
        assertEquals(java.util.Set.of(copy, sync), java.util.Set.copyOf(r.waiting()), "left for their user's Enter");
        assertEquals(java.util.Set.of(declined, gone), java.util.Set.copyOf(r.left()), "her choice, or nothing there");
        assertTrue(Children.waitFor(() -> ran("plain"), Duration.ofSeconds(5)), "the pane at its gate ran its command");
        Thread.sleep(500);
        for (String s : List.of("copy", "sync", "declined")) assertFalse(ran(s), s + ": no Enter went there");
        assertTrue(tmux.run("display-message", "-p", "-t", copy.paneId(), "#{pane_in_mode}").out().strip().equals("1"), "still in copy mode, her selection kept");
        assertFalse(Files.exists(typed), "her half-typed line was not sent for her");
    }

    /**
     * A pane still printing its saved screen (it waits for the restore's signal, a child of its
     * script) is not yet at its gate, and not past it: the Enter typed then waits for the gate.
     */
    @Test
    void aPaneStillPrintingItsScreenIsPressedAndTheEnterWaitsForItsGate() throws Exception {
        String channel = "t3-screen-test";
        List<String> argv = PaneScript.withScreen(channel, PaneScript.resume(tmp, "/bin/sh", true, ID, "claude", "",
                List.of("touch", tmp.resolve("screen.ran").toString())));
        assertTrue(tmux.newSession("screen", tmp, Map.of(), argv).ok());
        String[] f = tmux.run("display-message", "-p", "-t", "=screen:", "#{pane_id} #{pane_pid}").out().strip().split(" ");
        int pid = Integer.parseInt(f[1]);
        assertTrue(Children.waitFor(() -> Procfs.read().selfAndDescendants(pid).size() > 1, Duration.ofSeconds(5)), "waiting for its screen");
        assertEquals(PaneScript.Gate.WAITING, PaneScript.gate(Procfs.read(), pid));
        Resumer.Waiting w = new Resumer.Waiting(me, tmux, "screen", "", f[0], pid, SavedPane.at(0, 0).conversation(ID, tmp.toString(), null).assistant("claude"),
                Instant.now());
        Resumer.Result r = Resumer.resume(List.of(w), eager());
        assertEquals(List.of(w), r.pressed());
        assertFalse(ran("screen"), "not yet: it still waits for its screen");
        assertTrue(tmux.run("wait-for", "-S", channel).ok());
        assertTrue(Children.waitFor(() -> ran("screen"), Duration.ofSeconds(5)), "the Enter reached its gate once the screen was printed");
    }
}
