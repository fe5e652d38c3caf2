package restore;

import base.ConversationId;
import base.Accounts;
import tmux.PaneScript;
import base.Procfs;
import base.Settings;
import tmux.Tmux;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * Whether the assistant a restore started in each new pane got going, or fell through to the login
 * shell at once (not on the user's PATH, a starting directory the user cannot enter, "No
 * conversation found"). Waits only until each pane has decided, at most {@code wait}: a pane
 * is settled the moment its assistant has got going (claude: written its live record), so this costs little when all is well.
 */
public final class ResumeCheck {

    private ResumeCheck() {}

    /** The conversations (lower case) of {@code pressed} whose claude did not start, each with why, in words. */
    public static Map<String, String> failedToStart(Tmux tmux, Accounts.Account account, List<Resumer.Waiting> pressed, Settings settings, Duration wait)
            throws InterruptedException {
        Map<String, String> failed = new HashMap<>();
        if (pressed.isEmpty()) return failed;
        long end = System.nanoTime() + wait.toNanos();
        List<Resumer.Waiting> open = new java.util.ArrayList<>(pressed);
        while (!open.isEmpty() && !tmux.hung()) {
            Procfs procs = Procfs.read();
            for (Resumer.Waiting w : List.copyOf(open)) {
                // The pane's own process is the pane script until it falls through to the login shell.
                Optional<Procfs.Proc> top = procs.get(w.panePid());
                if (top.isEmpty() || !PaneScript.isPaneScript(top.get())) {
                    open.remove(w);
                    failed.put(ConversationId.normal(w.conversation()), why(tmux, top.isEmpty() ? null : w.paneId(), w.pane().assistant(), settings.command(w.pane().assistant()).get(0), account));
                } else if (Resumer.started(w, procs)) {
                    // Started once it has written its live record: a claude that fails at once ("No
                    // conversation found") runs for a few ms first, and must not count as started.
                    open.remove(w);
                }
            }
            if (open.isEmpty() || System.nanoTime() > end) break;
            Thread.sleep(100);
        }
        return failed;
    }

    /** The pane script printed the assistant's status before the shell took over: read it off the screen. */
    private static String why(Tmux tmux, String paneId, String assistant, String command, Accounts.Account account) {
        if (paneId == null) return assistant + " did not start, and its pane is gone";
        String screen = tmux.screen(paneId);
        Matcher m = PaneScript.EXITED.matcher(screen == null ? "" : screen);
        // The last status: a saved screen printed back above may hold an older one.
        Integer status = null;
        while (m.find()) status = Integer.parseInt(m.group(1));
        if (status == null) return assistant + " did not start (its screen does not say why)";
        if (status == PaneScript.CANNOT_ENTER) return assistant + " did not start: " + account.name() + " cannot enter the conversation's starting directory (unreadable? not mounted?)";
        if (status == 127) return assistant + " did not start: '" + command + "' is not on " + account.name() + "'s login PATH (set "
                + Settings.commandKnob(assistant) + " to its full path)";
        if (status == 126) return assistant + " did not start: '" + command + "' is not executable for " + account.name();
        return assistant + " exited at once with status " + status;
    }
}
