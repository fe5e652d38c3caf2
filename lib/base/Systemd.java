package base;

import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the init system this host runs. */
public final class Systemd {
    private Systemd() {}

    /** True when PID 1 is systemd (sd_booted(3): /run/systemd/system exists). */
    public static boolean isPid1() {
        return Files.isDirectory(Path.of("/run/systemd/system"));
    }
}
