import base.Procfs;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tmux.PaneScript;

/**
 * Panes waiting at their gate across an upgrade: the scripts earlier releases put in a pane's
 * argv (kept byte for byte in tests/fixtures) run as real processes, and this release still
 * finds which conversation each waits to resume. A pane not found would be saved as exited,
 * and the next boot would not bring its conversation back.
 */
class PaneScriptTest {
    static final String ID = "0f3c2a10-2b3c-4d5e-8f90-123456789abc";

    @Test
    void panesAtTheGateOfEarlierReleasesAreStillFound() throws Exception {
        assertAtGate("pane-script-v5.sh", List.of("codex"), "codex");
        assertAtGate("pane-script-claude-only.sh", List.of(), "claude");
    }

    @Test
    void aPaneOfThisReleaseSaysOnceWhatHappened() throws Exception {
        List<String> argv = PaneScript.resume(Path.of("/"), "/bin/sh", false, ID, "claude", PaneScript.note(ID, "after a crash, healed",
                java.time.Instant.parse("2026-11-30T14:02:00Z")), List.of("true"));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getOutputStream().close(); // the login shell it ends in reads nothing and exits
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(1, out.split("t3: resumed conversation 0f3c2a10\u2026 \\(after a crash, healed at ", -1).length - 1, out);
        assertTrue(out.indexOf("t3: resumed") < out.indexOf("[t3-restore] claude exited (0)"), "said before the assistant runs: " + out);
    }

    /**
     * The Resumer types Enter only into a pane still at its gate: one where she pressed Enter
     * (its assistant runs, a child of the script), or Ctrl-C (her shell now), or that is gone, is
     * past it. Real processes of this release's script.
     */
    @Test
    void aPaneSomeoneGotToFirstIsPastItsGate() throws Exception {
        List<String> argv = PaneScript.resume(Path.of("/"), "/bin/sh", true, ID, "claude", "", List.of("sleep", "30"));
        Process entered = new ProcessBuilder(argv).redirectErrorStream(true).start();
        Process interrupted = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try {
            for (Process p : List.of(entered, interrupted)) {
                int pid = (int) p.pid();
                assertTrue(Children.waitFor(() -> Procfs.readOne(pid).flatMap(PaneScript::waitingFor).isPresent(), Duration.ofSeconds(5)), "at its gate");
                Thread.sleep(200); // at its read
                assertEquals(PaneScript.Gate.WAITING, PaneScript.gate(Procfs.read(), pid), "waiting at its gate: Enter may be typed");
            }
            entered.getOutputStream().write('\n');
            entered.getOutputStream().flush();
            assertTrue(Children.waitFor(() -> PaneScript.gate(Procfs.read(), (int) entered.pid()) == PaneScript.Gate.ENTERED, Duration.ofSeconds(5)),
                    "Enter pressed: its assistant runs");
            Children.check("kill", "-INT", Long.toString(interrupted.pid()));
            assertTrue(Children.waitFor(() -> PaneScript.gate(Procfs.read(), (int) interrupted.pid()) == PaneScript.Gate.LEFT, Duration.ofSeconds(5)),
                    "Ctrl-C: her shell");
            assertTrue(Procfs.readOne((int) interrupted.pid()).map(p -> !PaneScript.isPaneScript(p)).orElse(true));
        } finally {
            for (Process p : List.of(entered, interrupted)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
            }
        }
        assertEquals(PaneScript.Gate.LEFT, PaneScript.gate(Procfs.read(), (int) entered.pid()), "a pane gone is left");
    }

    private static void assertAtGate(String fixture, List<String> assistantArg, String assistant) throws Exception {
        String script = Files.readString(Repo.ROOT.resolve("tests/fixtures").resolve(fixture));
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", script, "t3-restore", "/tmp", "/bin/sh", "wait", ID));
        argv.addAll(assistantArg);
        argv.addAll(List.of(assistant, "--resume", ID));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start(); // stdin stays open: it waits at its gate
        try {
            int pid = (int) p.pid();
            assertTrue(Children.waitFor(() -> Procfs.readOne(pid).map(x -> x.argv().size() == argv.size()).orElse(false), Duration.ofSeconds(5)));
            Optional<PaneScript.AtGate> gate = PaneScript.waitingFor(Procfs.readOne(pid).orElseThrow());
            assertEquals(Optional.of(new PaneScript.AtGate(ID, assistant, Path.of("/tmp"))), gate, fixture + " is found at its gate");
        } finally {
            p.destroyForcibly().waitFor();
        }
    }
}
