import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import install.Builds;
import install.CheckoutTrust;
import install.Sources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The house's rules, checked on the compiled classes (ArchUnit): the packages below the flows
 * never reach up into them, no two packages need each other; and one owner says which files a
 * script is built from, so the last good build's hash and the trust check cover exactly what
 * JBang compiles.
 */
class HouseRulesTest {
    static final String[] PACKAGES = {"base", "tmux", "assistant", "assistants", "claude", "codex", "gemini", "opencode", "store", "keep", "save", "metrics", "status", "restore", "heal", "install"};
    static final JavaClasses LIB = new ClassFileImporter().importPackages(PACKAGES);

    @Test
    void whatTheFlowsStandOnNeverImportsTheFlows() {
        assertTrue(LIB.size() > 40, "the lib classes were found on the classpath: " + LIB.size());
        noClasses().that().resideInAnyPackage("base..", "tmux..", "assistant..", "assistants..", "claude..", "store..", "keep..")
                .should().dependOnClassesThat().resideInAnyPackage("save..", "restore..", "heal..")
                .because("save, restore and heal are built on base, tmux, the assistants and store, not the other way round")
                .check(LIB);
        noClasses().that().resideInAPackage("base..").should().dependOnClassesThat()
                .resideInAnyPackage("tmux..", "assistant..", "assistants..", "claude..", "store..", "install..").check(LIB);
        noClasses().that().resideInAnyPackage("assistant..", "claude..", "codex..", "gemini..", "opencode..").should().dependOnClassesThat().resideInAnyPackage("store..", "assistants..")
                .because("an assistant knows its own files, not the snapshot's; only the one list of assistants names each")
                .check(LIB);
        noClasses().that().resideInAnyPackage("save..", "restore..", "heal..", "store..", "keep..").should().dependOnClassesThat().resideInAnyPackage("claude..", "codex..", "gemini..", "opencode..")
                .because("nothing in save, restore or heal names an assistant: they ask assistant.Assistant, through assistants.Assistants")
                .check(LIB);
        noClasses().that().resideInAnyPackage("tmux..", "assistant..", "assistants..", "claude..", "store..").should().dependOnClassesThat().resideInAPackage("install..")
                .because("installing the units is the flows' business, not the model's").check(LIB);
        noClasses().that().resideInAnyPackage("base..", "tmux..", "assistant..", "assistants..", "store..", "keep..", "save..", "restore..", "heal..", "install..")
                .should().dependOnClassesThat().resideInAnyPackage("metrics..", "status..")
                .because("what a run reports is read from what it did, after it: the flows call it, nothing below does").check(LIB);
        noClasses().that().resideInAnyPackage("restore..", "save..").should().dependOnClassesThat().resideInAPackage("heal..")
                .because("heal uses a restore's planning; restore and save know nothing of heal").check(LIB);
    }

    @Test
    void noTwoPackagesNeedEachOther() {
        slices().matching("(*)..").should().beFreeOfCycles().check(LIB);
    }

    @Test
    void theHashAndTheTrustCheckCoverExactlyWhatJBangCompiles() throws Exception {
        List<Path> trusted = CheckoutTrust.ranByUnits(Repo.ROOT.toRealPath());
        for (String script : Builds.SCRIPTS) {
            Children.Ran info = Children.run(List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", "info", "tools", Repo.ROOT.resolve(script).toString()),
                    Map.of(), Repo.ROOT, Duration.ofMinutes(5));
            assertEquals(0, info.exit(), info.all());
            Set<Path> compiled = new TreeSet<>();
            for (JsonNode s : new ObjectMapper().readTree(info.out()).path("sources")) compiled.add(Path.of(s.path("backingResource").asText()).toRealPath());
            Set<Path> ours = Sources.of(Repo.ROOT.toRealPath(), script).stream().collect(Collectors.toCollection(TreeSet::new));
            assertEquals(compiled, ours, script + ": the files JBang compiles are the files the hash covers");
            assertTrue(compiled.size() > 40 && compiled.stream().anyMatch(p -> p.toString().contains("/lib/restore/")), "sub-folders included: " + compiled);
            assertTrue(trusted.containsAll(compiled), script + ": the trust check covers them all");
        }
    }
}
