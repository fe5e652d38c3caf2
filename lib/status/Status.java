package status;

import base.Accounts;
import base.Json;
import base.Settings;
import base.Tables;
import install.Systemctl;
import install.Units;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import metrics.UserSummary;
import store.HealLedger;
import store.StateStore;
import tmux.Tmux;

/**
 * The one screen for a person at a terminal (t3-reconcile --status): per user, sessions saved
 * and live, conversations running, not running and owed, the last save and its age, snapshots
 * kept, heals in the last day, files kept (the last save: the last that succeeded); the host: each unit enabled and active, its last run
 * and result, the caches, the drift --check would report. {@code --json} for machines; colour
 * only on a terminal.
 */
public final class Status {
    /** One user's line. {@code live}: her sessions now (null: her server did not answer). */
    public record User(String user, int saved, Integer live, int conversations, int notRunning, int owed, Instant lastSave, int snapshots,
                       long healsLastDay, int keptFiles) {}

    /** One unit's line: systemctl's own words (empty where no manager answers). */
    public record Unit(String unit, String enabled, String active, String lastRun, String result) {}

    /** {@code cachesWarm}: null when not looked at (--no-build). */
    public record Screen(Instant now, List<User> users, List<Unit> units, boolean managerAnswers, Boolean cachesWarm, List<String> drift) {}

    private Status() {}

    /** Reads what the screen shows: each user's state dir and live server, the units; the drift is --check's, given. */
    public static Screen read(Settings settings, StateStore store, List<String> users, Systemctl systemctl, Boolean cachesWarm, List<String> drift) {
        Instant now = Instant.now();
        Map<String, Integer> live = liveSessions(settings, users);
        List<User> lines = new ArrayList<>();
        for (String u : users) {
            UserSummary s = UserSummary.of(store, u);
            long heals = 0;
            try {
                HealLedger ledger = HealLedger.read(store, u);
                Instant dayAgo = now.minus(Duration.ofDays(1));
                heals = ledger.since("healed", dayAgo) + ledger.since("server-healed", dayAgo);
            } catch (IOException e) {
                // none known
            }
            lines.add(new User(u, s.sessions(), live.get(u), s.conversationCount(), s.notRunningCount(), s.owed(), s.lastSaved(), s.snapshots(), heals, s.keptFiles()));
        }
        List<Unit> units = new ArrayList<>();
        for (String unit : List.of(Units.SAVE_TIMER, "t3-tmux-save.service", Units.RESTORE, Units.RECONCILE_TIMER, "t3-tmux-reconcile.service")) {
            Map<String, String> p = systemctl.show(unit, "ActiveState", "Result", "ExecMainStartTimestamp", "LastTriggerUSec");
            String last = unit.endsWith(".timer") ? p.getOrDefault("LastTriggerUSec", "") : p.getOrDefault("ExecMainStartTimestamp", "");
            units.add(new Unit(unit, systemctl.isEnabled(unit), p.getOrDefault("ActiveState", ""), last, p.getOrDefault("Result", "")));
        }
        return new Screen(now, lines, units, systemctl.live(), cachesWarm, List.copyOf(drift));
    }

    /** The screen waits this long in all for users' tmux servers: one that hangs shows as "?", not as a blank screen. */
    static final Duration LIVE_DEADLINE = Duration.ofSeconds(10);

    /** Each user's live sessions, asked of her tmux (as her) a few at a time; absent: her server did not answer in time. */
    private static Map<String, Integer> liveSessions(Settings settings, List<String> users) {
        Map<String, Integer> out = new java.util.concurrent.ConcurrentHashMap<>();
        if (users.isEmpty()) return out;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(8, users.size()), r -> {
            Thread t = new Thread(r, "t3-status-tmux");
            t.setDaemon(true);
            return t;
        });
        try {
            List<java.util.concurrent.Callable<Void>> asks = new ArrayList<>();
            for (String u : users) {
                asks.add(() -> {
                    Accounts.byName(u).ifPresent(a -> {
                        Tmux.Listing l = Tmux.of(a, settings).listSessions();
                        switch (l.status()) {
                            case OK -> out.put(u, l.sessions().size());
                            case NO_SERVER, STALE_SOCKET, NO_SESSIONS -> out.put(u, 0);
                            default -> { }
                        }
                    });
                    return null;
                });
            }
            pool.invokeAll(asks, LIVE_DEADLINE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /** The screen as JSON, one document. */
    public static void printJson(Screen s, PrintStream out) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("time", s.now().toString());
        doc.put("users", s.users().stream().map(u -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", u.user());
            m.put("sessionsSaved", u.saved());
            m.put("sessionsLive", u.live());
            m.put("conversations", u.conversations());
            m.put("running", u.conversations() - u.notRunning());
            m.put("notRunning", u.notRunning());
            m.put("owed", u.owed());
            m.put("lastSave", u.lastSave() == null ? null : u.lastSave().toString());
            m.put("lastSaveAgeSeconds", u.lastSave() == null ? null : Duration.between(u.lastSave(), s.now()).getSeconds());
            m.put("snapshots", u.snapshots());
            m.put("healsLastDay", u.healsLastDay());
            m.put("keptFiles", u.keptFiles());
            return m;
        }).toList());
        doc.put("units", s.units());
        doc.put("managerAnswers", s.managerAnswers());
        doc.put("cachesWarm", s.cachesWarm());
        doc.put("drift", s.drift());
        out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
    }

    /** The screen as text; {@code colour}: a terminal's (green all is well, yellow look at it, red act). */
    public static void print(Screen s, PrintStream out, boolean colour) {
        Paint p = new Paint(colour);
        out.println(p.bold("t3-tmux status at " + s.now().truncatedTo(ChronoUnit.SECONDS)));
        out.println();
        if (s.users().isEmpty()) {
            out.println("no users: nobody is in the roster and no snapshot is kept");
        } else {
            List<String[]> rows = new ArrayList<>();
            for (User u : s.users()) {
                rows.add(new String[] {u.user(), String.valueOf(u.saved()), u.live() == null ? "?" : String.valueOf(u.live()),
                        String.valueOf(u.conversations() - u.notRunning()), String.valueOf(u.notRunning()), String.valueOf(u.owed()),
                        u.lastSave() == null ? "never" : u.lastSave().truncatedTo(ChronoUnit.SECONDS) + " (" + age(Duration.between(u.lastSave(), s.now())) + " ago)",
                        String.valueOf(u.snapshots()), String.valueOf(u.healsLastDay()), String.valueOf(u.keptFiles())});
            }
            Tables.print(out, List.of("USER", "SAVED", "LIVE", "RUNNING", "NOT-RUNNING", "OWED", "LAST SAVE", "SNAPSHOTS", "HEALS-24H", "KEPT-FILES"), rows);
            out.println("SAVED: sessions in the newest snapshot; LIVE: sessions now (?: her tmux did not answer); LAST SAVE: the last that succeeded");
        }
        out.println();
        List<String[]> rows = new ArrayList<>();
        for (Unit u : s.units()) {
            rows.add(new String[] {u.unit(), u.enabled(), s.managerAnswers() ? u.active() : "-", blank(u.lastRun()), blank(u.result())});
        }
        Tables.print(out, List.of("UNIT", "ENABLED", "ACTIVE", "LAST RUN", "RESULT"), rows);
        if (!s.managerAnswers()) out.println("no service manager answers here (not booted with systemd?): what is enabled is read from the files");
        out.println();
        out.println("caches: " + (s.cachesWarm() == null ? "not looked at (--no-build)"
                : s.cachesWarm() ? p.green("warm (the boot restore runs offline)") : p.yellow("not warm: t3-reconcile builds them")));
        if (s.drift().isEmpty()) {
            out.println("drift: " + p.green("none"));
        } else {
            out.println("drift: " + p.red(s.drift().size() + " (t3-reconcile fixes them)"));
            for (String d : s.drift()) out.println("  - " + d);
        }
        out.flush();
    }

    private static String blank(String s) {
        return s == null || s.isBlank() || s.equals("n/a") ? "-" : s;
    }

    /** 45s, 12m, 3h, 2d. */
    static String age(Duration d) {
        long s = Math.max(0, d.getSeconds());
        if (s < 60) return s + "s";
        if (s < 3600) return s / 60 + "m";
        if (s < 86400) return s / 3600 + "h";
        return s / 86400 + "d";
    }

    /** ANSI colour, or none. */
    private record Paint(boolean on) {
        String green(String s) { return wrap("32", s); }
        String yellow(String s) { return wrap("33", s); }
        String red(String s) { return wrap("31", s); }
        String bold(String s) { return wrap("1", s); }
        private String wrap(String code, String s) { return on ? "\u001b[" + code + "m" + s + "\u001b[0m" : s; }
    }
}
