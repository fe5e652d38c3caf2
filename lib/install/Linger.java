package install;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Whether a person's user manager starts at boot (logind's linger) or only at her first login:
 * in single-user mode it runs her restore unit, so linger decides when her sessions come back.
 * logind keeps one file per lingering user, which anyone may read without a bus.
 */
public final class Linger {
    static final Path DIR = Path.of("/var/lib/systemd/linger");

    private Linger() {}

    public static boolean on(String user) {
        return Files.exists(DIR.resolve(user), LinkOption.NOFOLLOW_LINKS);
    }

    /** One line for the log: whether it is on, what that means, and how to turn it on. */
    public static String line(String user) {
        if (on(user)) return "linger is on for " + user + ": your user manager starts at boot, and your sessions come back then";
        return "linger is off for " + user + ": your sessions come back at your first login after a boot, not at boot, and what that "
                + "restore brings back ends with your last logout; for boot: loginctl enable-linger " + user
                + " (or an operator: sudo loginctl enable-linger " + user + ")";
    }
}
