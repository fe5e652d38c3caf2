import base.Accounts;
import base.UserFiles;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 8, item 5: a user's files are read by root through paths the user controls. Swapping a
 * directory on the path for a symlink between root's checks and its open must never make root
 * read a file outside the user's config dir. A real OS user's files, as root.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileFilesTest {
    TestUsers users;
    Accounts.Account mallory;
    Path config, secretDir;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to read files as root that a throwaway user swaps around; run the tests as root (CI does)");
        users = new TestUsers();
        mallory = users.create();
        config = mallory.home().resolve("cfg");
        Children.asUser(mallory, "mkdir", "-p", config.resolve("sessions").toString());
        Children.asUser(mallory, "sh", "-c", "echo mine > " + config.resolve("sessions/1.json"));
        // Root's file, where the symlink points: same name, content only root may read.
        secretDir = Files.createDirectory(users.dir.resolve("root-only"));
        Files.setPosixFilePermissions(secretDir, PosixFilePermissions.fromString("rwx------"));
        Files.writeString(secretDir.resolve("1.json"), "SECRET\n");
        Files.setPosixFilePermissions(secretDir.resolve("1.json"), PosixFilePermissions.fromString("rw-------"));
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Optional<String> read() throws Exception {
        return UserFiles.readPrefix(config.resolve("sessions/1.json"), mallory.uid(), config.toRealPath(), 100);
    }

    @Test
    void aParentDirectorySwappedForASymlinkNeverRedirectsTheRead() throws Exception {
        Path cfg = config.toRealPath();
        Path sessions = cfg.resolve("sessions"), parked = cfg.resolve("sessions.real"), link = cfg.resolve("link");
        Files.createSymbolicLink(link, secretDir);
        assertEquals(Optional.of("mine\n"), read(), "before the race: her file");

        // What she can do in her own dir, as fast as she likes: sessions/ <-> a symlink to root's dir.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong swaps = new AtomicLong();
        Thread swapper = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Files.move(sessions, parked, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(link, sessions, StandardCopyOption.ATOMIC_MOVE);
                    Thread.onSpinWait();
                    Files.move(sessions, link, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(parked, sessions, StandardCopyOption.ATOMIC_MOVE);
                    swaps.incrementAndGet();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "swapper");
        swapper.setDaemon(true);
        swapper.start();
        int mine = 0, refused = 0, reads = 0;
        try {
            long end = System.nanoTime() + 4_000_000_000L;
            while (System.nanoTime() < end) {
                Optional<String> got = read();
                reads++;
                if (got.isEmpty()) refused++;
                else if (got.get().equals("mine\n")) mine++;
                else fail("root read " + got.get().strip() + " through a swapped parent directory, read " + reads + " (" + swaps.get() + " swaps)");
            }
        } finally {
            stop.set(true);
            swapper.join(5000);
        }
        assertFalse(swapper.isAlive());
        assertTrue(swaps.get() > 1000, "the race ran: " + swaps.get() + " swaps");
        assertTrue(mine > 0 && refused > 0, "both sides of the race were seen: " + mine + " of " + reads + " read hers, " + refused + " refused");
        assertTrue(Files.isDirectory(sessions, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(Optional.of("mine\n"), read(), "after the race: her file again");
    }

    @Test
    void aSymlinkAnywhereOnThePathIsRefused() throws Exception {
        // Her config dir itself, checked once, later replaced by a symlink to a copy she owns elsewhere.
        Path real = config.toRealPath();
        Path elsewhere = mallory.home().resolve("elsewhere");
        Children.asUser(mallory, "cp", "-a", real.toString(), elsewhere.toString());
        Path moved = mallory.home().resolve("cfg.moved");
        Files.move(real, moved);
        Files.createSymbolicLink(real, elsewhere);
        try {
            assertEquals(Optional.empty(), UserFiles.readPrefix(real.resolve("sessions/1.json"), mallory.uid(), real, 100),
                    "the trusted dir is a symlink now: its files are not read");
        } finally {
            Files.delete(real);
            Files.move(moved, real);
        }
        assertEquals(Optional.of("mine\n"), read());
        assertEquals(Optional.empty(), UserFiles.readPrefix(real.resolve("sessions/../sessions/1.json"), mallory.uid(), real, 100), "no '..'");
    }
}
