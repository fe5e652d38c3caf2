package base;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whom a run serves, and where its files live for that. Root serves the machine's users (system
 * mode: the roster, /var/lib, /etc, /run, system units); anyone else serves herself alone
 * (single-user mode: her XDG folders, her user manager's units, tmux run directly). Every path
 * that differs between the two is owned here, each with the XDG variable that moves it.
 */
public record Mode(boolean system, Path home, Map<String, String> env) {
    /** This process's mode: system when root. */
    public static Mode current() {
        return of(System.getenv(), Accounts.isRoot());
    }

    public static Mode of(Map<String, String> env, boolean root) {
        String home = env.get("HOME");
        // Root's paths never depend on its home (system services get none): no passwd lookup for it.
        Path h = home != null && home.startsWith("/") ? Path.of(home) : root ? Path.of("/")
                : Accounts.byUid(Accounts.currentUid()).map(Accounts.Account::home).orElse(Path.of("/"));
        return new Mode(root, h, Map.copyOf(env));
    }

    public boolean singleUser() { return !system; }

    /** Snapshots and history: /var/lib/t3-tmux-state; one person's ${XDG_STATE_HOME:-~/.local/state}/t3-tmux. */
    public Path stateDir() {
        return system ? Path.of("/var/lib/t3-tmux-state") : xdg("XDG_STATE_HOME", ".local/state").resolve("t3-tmux");
    }

    /** Files t3 writes for the programs it starts (Gemini's defaults): /etc/t3-tmux; one person's ${XDG_CONFIG_HOME:-~/.config}/t3-tmux. */
    public Path configDir() {
        return system ? Path.of("/etc/t3-tmux") : configHome().resolve("t3-tmux");
    }

    /** JBang's caches for the units (the boot restore runs offline from them): /var/cache/t3-tmux; one person's ${XDG_CACHE_HOME:-~/.cache}/t3-tmux. */
    public Path cacheDir() {
        return system ? Path.of("/var/cache/t3-tmux") : xdg("XDG_CACHE_HOME", ".cache").resolve("t3-tmux");
    }

    /**
     * What lasts this boot only (heal's record when the state dir's disk is full): /run/t3-tmux;
     * one person's $XDG_RUNTIME_DIR/t3-tmux, or null when she has no runtime dir (no login session).
     */
    public Path runtimeDir() {
        if (system) return Path.of("/run/t3-tmux");
        String run = env.get("XDG_RUNTIME_DIR");
        if (run != null && run.startsWith("/") && Files.isDirectory(Path.of(run), LinkOption.NOFOLLOW_LINKS)) return Path.of(run).resolve("t3-tmux");
        Path standard = Path.of("/run/user/" + Accounts.currentUid());
        return Files.isDirectory(standard, LinkOption.NOFOLLOW_LINKS) ? standard.resolve("t3-tmux") : null;
    }

    /** ${XDG_CONFIG_HOME:-~/.config}: where her user manager looks for her units, beside t3's own folder. */
    public Path configHome() {
        return xdg("XDG_CONFIG_HOME", ".config");
    }

    /** The TMUX_TMPDIR servers run with when T3_TMUX_TMPDIR does not say: /tmp; one person's own TMUX_TMPDIR, as her tmux uses it. */
    public String tmuxTmpDir() {
        String own = env.get("TMUX_TMPDIR");
        return !system && own != null && own.startsWith("/") ? own : "/tmp";
    }

    /**
     * Her user manager can be asked (systemctl --user, systemd-run --user): single-user mode with
     * XDG_RUNTIME_DIR set, as a login gives it (systemd's tools find the manager through it alone:
     * without it they fail, under sudo -u, cron, or in a pane of a server t3 started).
     */
    public boolean userManager() {
        String run = env.get("XDG_RUNTIME_DIR");
        return !system && run != null && run.startsWith("/") && Files.exists(Path.of(run, "systemd/private"), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * This process runs under her user manager (one of her units), not in a login session: a
     * tmux server it starts needs a scope of its own there, or it dies with the unit. Run by hand
     * from a login, a server stays in that login's scope, as a plain tmux does: a scope under
     * her manager would die with the manager at her last logout when she has no linger.
     */
    public boolean inUserManager() {
        if (system) return false;
        try {
            return Files.readString(Path.of("/proc/self/cgroup")).contains("/user@" + Accounts.currentUid() + ".service/");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Her settings file (the units read it too): T3_* lines of {@code configDir()/env}, the process's own variables winning. */
    public Path settingsFile() {
        return configDir().resolve("env");
    }

    /** ${VAR:-~/fallback}, as the XDG base directory spec says: a relative value is ignored. */
    private Path xdg(String var, String fallback) {
        String v = env.get(var);
        return v != null && v.startsWith("/") ? Path.of(v) : home.resolve(fallback);
    }
}
