import base.Accounts;
import base.Mode;
import install.Units;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One person who is not root (single-user mode): a throwaway account with her own checkout in
 * her home and her units' caches (a copy of the warm Maven repository, so her builds run
 * offline), running t3's scripts as herself the way her units do.
 */
public final class Person {
    public final TestUsers users;
    public final Accounts.Account account;
    public final Path checkout;
    public final Mode mode;

    public Person(TestUsers users) throws Exception {
        this.users = users;
        account = users.create();
        mode = Mode.of(Map.of("HOME", account.home().toString()), false);
        checkout = account.home().resolve("t3-tmux");
        Files.createDirectories(checkout);
        for (String f : List.of("jbang", "t3-save.java", "t3-restore.java", "t3-reconcile.java", "t3-tmux.tmux", "lib", "units")) {
            Children.check("cp", "-a", Repo.ROOT.resolve(f).toString(), checkout.toString());
        }
        Path m2 = Path.of(Units.jbangEnv(mode).get("JBANG_REPO"));
        Files.createDirectories(m2.getParent());
        Children.check("cp", "-a", Container.warmJBangRepo().toString(), m2.toString());
        Children.check("chown", "-R", account.uid() + ":" + account.gid(), account.home().toString());
        Children.check("chmod", "-R", "go-w", checkout.toString());
    }

    /** Her environment: a login's basics, her TMUX_TMPDIR (the test's), the fake claude. */
    public List<String> env() {
        return List.of("HOME=" + account.home(), "USER=" + account.name(), "LOGNAME=" + account.name(), "SHELL=/bin/bash",
                "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "JAVA_HOME=" + System.getProperty("java.home"),
                "TMUX_TMPDIR=" + users.tmuxTmp, "T3_CLAUDE=" + users.bin.resolve("claude"));
    }

    /** Runs one of her checkout's scripts as her, as her units do (their JBang caches), from her checkout. */
    public Children.Ran run(String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of("setsid", "setpriv", "--reuid=" + account.uid(), "--regid=" + account.gid(), "--init-groups", "--",
                "env", "-i"));
        cmd.addAll(env());
        Units.jbangEnv(mode).forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(List.of(checkout.resolve("jbang").toString(), "--quiet", checkout.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return Children.run(cmd, Map.of(), checkout, Duration.ofMinutes(10));
    }

    public Path state() { return mode.stateDir(); }
}
