///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Save
//SOURCES lib/*.java
//DEPS info.picocli:picocli:4.7.7
//DEPS org.zeroturnaround:zt-exec:1.12
//DEPS com.fasterxml.jackson.core:jackson-databind:2.18.2
//DEPS org.slf4j:slf4j-nop:1.7.36

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "t3-save", mixinStandardHelpOptions = true, version = "t3-save 1", usageHelpWidth = 100,
        description = {
            "Snapshot every roster user's tmux sessions (name, cwd, the claude conversation running in",
            "each) into <state>/<user>.tsv, so t3-restore can bring them back after a reboot.",
            "",
            "A user whose tmux server is missing, gone (stale socket), empty or not answering keeps",
            "the last snapshot untouched. Each user is handled on its own: one failure never stops",
            "the others."},
        footer = {
            "",
            "Environment:",
            "  T3_USER_MAP      roster, lines <auth>=<os_user>[:<cwd>] (default /etc/ttyd-user-map);",
            "                   without it: yourself, or as root every user with a live tmux server",
            "  T3_STATE_DIR     where snapshots go (default /var/lib/t3-tmux-state, mode 0700)",
            "  T3_TMUX_TMPDIR   the TMUX_TMPDIR users' servers run with (default /tmp)",
            "  T3_TMUX_TIMEOUT  seconds one tmux call may take (default 5)",
            "",
            "Exit status: 0 every user done, 1 some user failed (see the log), 2 bad arguments."})
class T3Save implements Callable<Integer> {
    @Option(names = "--user", paramLabel = "NAME", description = "only this roster user (repeatable)")
    List<String> users = new ArrayList<>();

    @Option(names = "--dry-run", description = "print the snapshots that would be written; write nothing")
    boolean dryRun;

    public static void main(String[] args) {
        Cli.exit(new T3Save(), args);
    }

    @Override
    public Integer call() throws Exception {
        Settings settings = Settings.fromEnvironment();
        Roster.Resolution roster = Roster.resolve(settings, users, () -> Roster.discoverLiveServers(settings.tmuxTmpDir()));
        if (roster.usageError() != null) {
            Log.error("%s", roster.usageError());
            return 2;
        }
        if (Units.bootRestorePending(new Systemctl(null))) {
            Log.warn("the boot restore (%s) has not finished; not saving, so the snapshots it restores from stay intact", Units.RESTORE);
            return 0;
        }
        if (roster.entries().isEmpty()) Log.info("nobody to save: the roster is empty");
        if (!dryRun && !roster.entries().isEmpty()) Snapshots.prepareStateDir(settings.stateDir());

        Procfs procs = Procfs.read(); // once per run: every user's panes are walked in memory
        int failed = 0;
        for (Roster.Entry entry : roster.entries()) {
            try {
                if (!saveOne(settings, entry.user(), procs)) failed++;
            } catch (Exception e) {
                Log.error("%s: save failed, last snapshot kept: %s", entry.user(), Cli.describe(e));
                failed++;
            }
        }
        return failed == 0 ? 0 : 1;
    }

    private boolean saveOne(Settings settings, String user, Procfs procs) throws Exception {
        Accounts.Account account = Accounts.byName(user).orElse(null);
        if (account == null) {
            Log.error("%s: no such user (getent passwd); fix the roster %s", user, settings.userMap());
            return false;
        }
        if (!Accounts.isRoot() && account.uid() != Accounts.currentUid()) {
            Log.error("%s: only root may save another user's sessions; run as root or with --user yourself", user);
            return false;
        }
        Inventory.Result inv = Inventory.take(account, new Tmux(account, settings.tmuxTmpDir(), settings.tmuxTimeout()), procs);
        switch (inv.status()) {
            case OK:
                break;
            case TIMED_OUT:
            case FAILED:
                Log.error("%s: %s (%s); last snapshot kept", user, inv.status().words, inv.detail());
                return false;
            case STALE_SOCKET:
                Log.warn("%s: %s (%s); last snapshot kept", user, inv.status().words, inv.detail());
                return true;
            default:
                Log.info("%s: %s; last snapshot kept", user, inv.status().words);
                return true;
        }
        Snapshots.WithPending rows = Snapshots.withPending(settings.stateDir(), user, inv.rows());
        if (!rows.pending().isEmpty()) {
            Log.warn("%s: keeping %d session(s) the restore could not bring back yet (%s); t3-restore --user %s retries them",
                    user, rows.pending().size(), String.join(", ", rows.pending().stream().map(r -> "'" + r.session() + "'").toList()), user);
        }
        if (dryRun) {
            System.out.print("### " + Snapshots.file(settings.stateDir(), user) + "\n" + Snapshots.format(rows.all()));
        } else {
            Snapshots.write(settings.stateDir(), user, rows.all());
        }
        Log.info("%s: %s %d sessions, %d with a conversation", user, dryRun ? "would save" : "saved",
                inv.rows().size(), inv.withConversation());
        return true;
    }
}
