///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Restore
//SOURCES lib/*.java
//DEPS info.picocli:picocli:4.7.7
//DEPS org.zeroturnaround:zt-exec:1.12
//DEPS com.fasterxml.jackson.core:jackson-databind:2.18.2
//DEPS org.slf4j:slf4j-nop:1.7.36

import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "t3-restore", mixinStandardHelpOptions = true, version = "t3-restore 1", usageHelpWidth = 100,
        description = {
            "Recreate every saved tmux session that is not live, each resuming its own claude conversation",
            "(claude --resume <uuid> in the conversation's starting directory, then the login shell when",
            "claude exits). Live sessions are left alone; a second run restores nothing.",
            "",
            "A row comes back as a plain shell when it has no conversation, when its transcript is gone,",
            "or when that conversation already runs elsewhere for the user; the log says which."},
        footer = {
            "",
            "Environment: T3_USER_MAP, T3_STATE_DIR, T3_TMUX_TMPDIR, T3_TMUX_TIMEOUT as for t3-save;",
            "  T3_CLAUDE       the claude command (default: claude, found through a login shell's PATH)",
            "  T3_CLAUDE_ARGS  extra arguments for claude, split on white space",
            "",
            "Exit status: 0 all done, 1 some rows failed (named in the log), 2 bad arguments or unknown user."})
class T3Restore implements Callable<Integer> {
    @Option(names = "--user", paramLabel = "NAME", description = "only this roster user (repeatable)")
    List<String> users = new ArrayList<>();

    @Option(names = "--session", paramLabel = "NAME", description = "only the saved session of this exact name (repeatable)")
    List<String> sessions = new ArrayList<>();

    @Option(names = "--dry-run", description = "print the plan as a table; change nothing")
    boolean dryRun;

    private final Set<String> sessionsSeen = new HashSet<>();
    private final List<String[]> table = new ArrayList<>();

    public static void main(String[] args) {
        Cli.exit(new T3Restore(), args);
    }

    @Override
    public Integer call() throws Exception {
        Settings settings = Settings.fromEnvironment();
        Roster.Resolution roster = Roster.resolve(settings, users, () -> Roster.withSnapshots(settings.stateDir()));
        if (roster.usageError() != null) {
            Log.error("%s", roster.usageError());
            return 2;
        }

        Procfs procs = Procfs.read();
        int failed = 0;
        for (Roster.Entry entry : roster.entries()) {
            try {
                failed += restoreOne(settings, entry, procs);
            } catch (Exception e) {
                Log.error("%s: restore failed: %s", entry.user(), Cli.describe(e));
                failed++;
            }
        }
        if (dryRun) Tables.print(System.out, List.of("USER", "SESSION", "STATE", "ACTION", "CONVERSATION", "WHY"), table);
        List<String> unknown = sessions.stream().filter(s -> !sessionsSeen.contains(s)).toList();
        if (!unknown.isEmpty()) {
            Log.error("no saved session named %s for %s", unknown, roster.entries().stream().map(Roster.Entry::user).toList());
            return 2;
        }
        return failed == 0 ? 0 : 1;
    }

    /** Restores one user's missing sessions; returns how many rows failed. */
    private int restoreOne(Settings settings, Roster.Entry entry, Procfs procs) throws Exception {
        String user = entry.user();
        Accounts.Account account = Accounts.byName(user).orElse(null);
        if (account == null) {
            Log.error("%s: no such user (getent passwd); fix the roster %s", user, settings.userMap());
            return 1;
        }
        Snapshots.Parsed saved;
        try {
            saved = Snapshots.read(settings.stateDir(), user);
        } catch (NoSuchFileException e) {
            Log.info("%s: no snapshot in %s; nothing to restore", user, settings.stateDir());
            return 0;
        }
        for (Roster.Problem p : saved.problems()) {
            Log.error("%s: %s line %d: %s; row skipped", user, Snapshots.file(settings.stateDir(), user), p.line(), p.text());
        }
        List<Snapshots.Row> rows = saved.rows().stream().filter(r -> sessions.isEmpty() || sessions.contains(r.session())).toList();
        rows.forEach(r -> sessionsSeen.add(r.session()));

        Tmux tmux = new Tmux(account, settings.tmuxTmpDir(), settings.tmuxTimeout());
        Tmux.Listing live = tmux.listSessions();
        if (live.status() == Tmux.Status.TIMED_OUT || live.status() == Tmux.Status.FAILED) {
            Log.error("%s: %s (%s); restored nothing, the next saves keep every row", user, live.status().words, live.detail());
            if (!dryRun) Snapshots.recordPending(settings.stateDir(), user, rows, rows);
            return saved.problems().size() + 1;
        }
        Conversations conversations = new Conversations(procs, account);
        // Listed names are tmux's literal names, so this is has-session's exact match, in one call.
        Set<String> liveNames = new HashSet<>();
        live.sessions().forEach(s -> liveNames.add(s.name()));
        List<RestorePlan.Step> steps = RestorePlan.plan(account, rows, liveNames::contains,
                RestorePlan.whereRunning(conversations.running(), live.sessions(), procs), conversations, entry.defaultCwd());
        if (dryRun) {
            steps.forEach(step -> table.add(new String[] {user, Snapshots.escape(step.row().session()), step.live() ? "live" : "missing",
                    step.action().words, step.row().hasConversation() ? step.row().conversation() : "-", step.why()}));
            return saved.problems().size();
        }

        List<Snapshots.Row> notBack = new ArrayList<>();
        for (RestorePlan.Step step : steps) {
            if (step.action() != RestorePlan.Action.SKIP && !recreate(tmux, account, settings, step)) notBack.add(step.row());
        }
        Snapshots.recordPending(settings.stateDir(), user, rows, notBack);
        long liveCount = steps.stream().filter(RestorePlan.Step::live).count();
        long restored = steps.size() - liveCount - notBack.size();
        long resumed = steps.stream().filter(st -> st.action() == RestorePlan.Action.CONVERSATION && !notBack.contains(st.row())).count();
        Log.info("%s: %s", user, restored == 0 && notBack.isEmpty()
                ? "nothing to restore: all " + liveCount + " saved sessions are live"
                : "restored " + restored + " of " + steps.size() + " saved sessions (" + resumed + " resuming a conversation), "
                        + liveCount + " were live" + (notBack.isEmpty() ? "" : ", " + notBack.size() + " failed"));
        return saved.problems().size() + notBack.size();
    }

    /** Creates one missing session; false (and logged) when tmux would not. */
    private static boolean recreate(Tmux tmux, Accounts.Account account, Settings settings, RestorePlan.Step step) {
        String user = account.name(), name = step.row().session();
        Exec.Result r = tmux.newSession(name, step.cwd(), RestorePlan.paneEnv(step), RestorePlan.paneCommand(step, account, settings));
        if (!r.ok()) {
            Log.error("%s: could not recreate session '%s' (the next saves keep it): %s", user, name,
                    r.timedOut() ? "tmux timed out" : r.firstErrorLine());
            return false;
        }
        if (!r.out().strip().equals(name)) Log.warn("%s: tmux named the restored session '%s', not '%s' as saved", user, r.out().strip(), name);
        if (step.action() == RestorePlan.Action.CONVERSATION) {
            Log.info("%s: restored '%s' in %s, resuming %s in %s", user, name, step.cwd(), step.row().conversation(), step.startDir());
        } else if (step.row().hasConversation()) {
            // A conversation that did not come back is worth a warning; a plain shell is not.
            Log.warn("%s: restored '%s' in %s as a shell: %s", user, name, step.cwd(), step.why());
        } else {
            Log.info("%s: restored '%s' in %s as a shell: %s", user, name, step.cwd(), step.why());
        }
        return true;
    }
}
