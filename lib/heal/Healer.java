package heal;

import store.HealLedger;
import base.Accounts;
import base.Exec;
import assistant.Crash;
import base.Log;
import restore.RestorePlan;
import restore.Resumer;
import base.Settings;
import tmux.PaneScript;
import tmux.Tmux;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Carries out one user's heal plan: each crashed conversation's pane is made again at its gate
 * (after a last look: the world moves while a run goes user by user), to be started by the
 * {@link Resumer} with the run's other starts, one user's one at a time (they share her login);
 * records in the ledger what was done with every record, and tells the journal per session and
 * in one line per user.
 */
public final class Healer {
    /** Past this many, crashes with nothing to heal are counted, not each logged (a user can make records). */
    private static final int LOGGED_LEAVES = 5;

    private Healer() {}

    /** Returns how many heals failed; each pane made again joins {@code gated}, at its gate. */
    public static int apply(List<HealPlan.Step> steps, HealPlan.World world, Tmux tmux, HealLedger ledger, Settings settings, Instant now,
                            List<Resumer.Waiting> gated) throws IOException {
        Accounts.Account account = world.account();
        String user = account.name();
        int healed = 0, waited = 0, gaveUp = 0, failed = 0, left = 0;
        for (HealPlan.Step step : steps) {
            String where = step.pane() == null ? "" : " in session '" + step.pane().session() + "' (pane " + step.pane().id() + ")";
            switch (step.action()) {
                case RESUME: {
                    Resumed done = resume(step, world, tmux, settings, where, gated);
                    if (done == Resumed.WAITING) {
                        ledger.waited();
                        waited++;
                        continue;
                    }
                    if (done == Resumed.FAILED) {
                        failed++;
                        continue;
                    }
                    ledger.healed(step.record().key(), step.conversation(), now);
                    healed++;
                    break;
                }
                case WAIT:
                    ledger.waited();
                    waited++;
                    Log.info("%s: conversation %s%s crashed; waiting: %s", user, step.conversation(), where, step.why());
                    continue;
                case GIVE_UP:
                    ledger.gaveUp(step.record().key(), step.conversation(), now);
                    gaveUp++;
                    Log.warn("%s: conversation %s%s: not healing it again: %s", user, step.conversation(), where, step.why());
                    break;
                default:
                    ledger.superseded(step.record().key(), step.conversation(), now);
                    if (++left <= LOGGED_LEAVES) Log.info("%s: conversation %s crashed; nothing to heal: %s", user, step.conversation(), step.why());
            }
            for (Crash other : step.others()) ledger.superseded(other.key(), other.conversation(), now);
        }
        if (!steps.isEmpty() && Heal.writeLedger(ledger) != 0) failed++;
        if (left > LOGGED_LEAVES) Log.info("%s: %d more crashes with nothing to heal", user, left - LOGGED_LEAVES);
        Log.info("%s: healed %d, waiting %d, gave up %d%s", user, healed, waited, gaveUp, failed == 0 ? "" : ", " + failed + " failed");
        return failed;
    }

    private enum Resumed { HEALED, WAITING, FAILED }

    /** Makes the crashed conversation's pane again, at its gate, after a last look (said in the log either way). */
    private static Resumed resume(HealPlan.Step step, HealPlan.World world, Tmux tmux, Settings settings, String where, List<Resumer.Waiting> gated) {
        Accounts.Account account = world.account();
        String user = account.name();
        String changed = HealPlan.changedSince(world, step);
        if (changed != null) {
            Log.info("%s: conversation %s%s crashed; waiting: %s", user, step.conversation(), where, changed);
            return Resumed.WAITING;
        }
        Path cwd = world.procs().cwd(step.pane().pid()).orElse(account.home());
        store.SavedPane resumed = HealPlan.resumed(world, step);
        Exec.Result r = tmux.respawnPane(step.pane().id(), new Tmux.PaneSpec(cwd, RestorePlan.paneEnv(step.record().assistant().name(), step.home()),
                RestorePlan.resumeCommand(step.startDir(), resumed, account, settings, true, PaneScript.HEALED)));
        if (!r.ok()) {
            Log.error("%s: could not heal conversation %s%s: %s", user, step.conversation(), where, r.timedOut() ? "tmux timed out" : r.firstErrorLine());
            return Resumed.FAILED;
        }
        Log.info("%s: healed conversation %s%s: resuming in %s in its turn; evidence: %s", user, step.conversation(), where, step.startDir(), step.why());
        // Its new process: the Resumer types into it only while it waits at its gate, and sees it get going.
        java.util.OptionalInt pid = tmux.panePid(step.pane().id());
        if (pid.isEmpty()) {
            Log.warn("%s: conversation %s%s waits for her Enter: tmux would not say the pane's new process", user, step.conversation(), where);
            return Resumed.HEALED;
        }
        // Most recently active of all: she was using it when it was killed.
        gated.add(new Resumer.Waiting(account, tmux, step.pane().session(), " (pane " + step.pane().id() + ")", step.pane().id(), pid.getAsInt(),
                resumed, Instant.now()));
        return Resumed.HEALED;
    }
}
