package fr.dmp.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationOptions;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The HL7/HAPI instance validator, fully offline: core R4, the project's profiles and the PDSm package.
 * Usage: Validate --profiles DIR --ig DIR --exclusions FILE --root DIR PATH... (files or folders of .json/.xml).
 * Prints one line per file (errors, warnings), then every unexcluded error and the counts by category;
 * exits 1 when an error is not matched by a line of the exclusions file.
 */
public final class Validate {
    private static final String DMP = "https://dmp-fhir-server.example/fhir/StructureDefinition/";

    private final FhirContext ctx = FhirContext.forR4();
    private final FhirValidator validator;
    private final PrePopulatedValidationSupport local;
    private final List<Exclusion> exclusions;
    private final Map<String, int[]> categories = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();
    private int errors, warnings, excluded;

    record Exclusion(Pattern pattern, String why) {}

    private Validate(Path profiles, Path ig, Path exclusionsFile) throws IOException {
        local = new PrePopulatedValidationSupport(ctx);
        loadConformance(profiles);
        loadConformance(ig);
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(ctx), local,
                new InMemoryTerminologyServerValidationSupport(ctx), new CommonCodeSystemsTerminologyService(ctx),
                new SnapshotGeneratingValidationSupport(ctx));
        FhirInstanceValidator module = new FhirInstanceValidator(chain);
        module.setAnyExtensionsAllowed(true);
        validator = ctx.newValidator().registerValidatorModule(module);
        exclusions = readExclusions(exclusionsFile);
    }

    /** StructureDefinitions, ValueSets and CodeSystems of a folder and its subfolders but example/. */
    private void loadConformance(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a folder: " + dir);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json") && !f.toString().contains("/example"))
                    .sorted().toList()) {
                IBaseResource res;
                try {
                    res = ctx.newJsonParser().parseResource(Files.readString(file));
                } catch (Exception notAResource) {
                    continue; // package.json and other non-FHIR files
                }
                if (res instanceof StructureDefinition sd) local.addStructureDefinition(sd);
                else if (res instanceof ValueSet vs) local.addValueSet(vs);
                else if (res instanceof CodeSystem cs) local.addCodeSystem(cs);
            }
        }
    }

    private static List<Exclusion> readExclusions(Path file) throws IOException {
        List<Exclusion> result = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) continue;
            int hash = trimmed.indexOf(" # ");
            if (hash < 0) throw new IOException("exclusion without a justification (' # why'): " + line);
            result.add(new Exclusion(Pattern.compile(trimmed.substring(0, hash).strip()),
                    trimmed.substring(hash + 3).strip()));
        }
        return result;
    }

    /**
     * The profiles a resource is checked against besides core R4 and its own meta.profile. PDSm profiles apply
     * through meta.profile only: the server is aligned on PDSm without claiming it (profiles/README.md, "PDSm"),
     * so a resource is held to PDSm exactly when it declares a PDSm profile.
     */
    private List<String> extraProfiles(IBaseResource res) {
        List<String> profiles = new ArrayList<>();
        if (res.fhirType().equals("AuditEvent")) profiles.add(DMP + "DmpAuditEvent");
        return profiles;
    }

    private void validateFile(Path root, Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String name = root.relativize(file).toString();
        if (!text.contains("resourceType") && !text.contains("http://hl7.org/fhir")) {
            return; // not a FHIR resource (profiles/schemas holds JSON Schemas)
        }
        IParser parser = file.toString().endsWith(".xml") ? ctx.newXmlParser() : ctx.newJsonParser();
        List<SingleValidationMessage> messages = new ArrayList<>();
        try {
            IBaseResource res = parser.parseResource(text);
            messages.addAll(validator.validateWithResult(text).getMessages());
            validateAgainstProfiles(res, text, "", messages);
            if (res instanceof Bundle bundle) {
                // a Bundle's own profile does not name the entries' profiles: check each entry against its own
                for (int i = 0; i < bundle.getEntry().size(); i++) {
                    Resource entry = bundle.getEntry().get(i).getResource();
                    if (entry != null) {
                        String json = ctx.newJsonParser().encodeResourceToString(entry);
                        validateAgainstProfiles(entry, json, "entry[" + i + "] ", messages);
                    }
                }
            }
        } catch (Exception unparsable) {
            messages.add(fatal("PARSE", "unparsable: " + unparsable.getMessage()));
        }
        report(name, messages);
    }

    private void validateAgainstProfiles(IBaseResource res, String text, String where,
                                         List<SingleValidationMessage> messages) {
        for (String profile : extraProfiles(res)) {
            String name = where + "[" + profile.substring(profile.lastIndexOf('/') + 1) + "] ";
            try {
                ValidationResult r = validator.validateWithResult(text, new ValidationOptions().addProfile(profile));
                for (SingleValidationMessage m : r.getMessages()) {
                    m.setMessage(name + m.getMessage());
                    messages.add(m);
                }
            } catch (Exception failure) { // one profile the validator cannot use must not hide the other checks
                messages.add(fatal("PROFILE", name + "not checked: " + failure.getMessage()));
            }
        }
    }

    private static SingleValidationMessage fatal(String id, String message) {
        SingleValidationMessage m = new SingleValidationMessage();
        m.setSeverity(ResultSeverityEnum.FATAL);
        m.setMessage(message);
        m.setMessageId(id);
        return m;
    }

    private void report(String name, List<SingleValidationMessage> messages) {
        int fileErrors = 0, fileWarnings = 0, fileExcluded = 0;
        for (SingleValidationMessage m : messages) {
            boolean error = m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL;
            boolean warning = m.getSeverity() == ResultSeverityEnum.WARNING;
            if (!error && !warning) continue;
            String line = name + " | " + m.getLocationString() + " | " + m.getMessage();
            String category = (error ? "error " : "warning ") + (m.getMessageId() == null ? "?" : m.getMessageId());
            categories.computeIfAbsent(category, k -> new int[1])[0]++;
            if (warning) {
                fileWarnings++;
            } else if (exclusions.stream().anyMatch(e -> e.pattern().matcher(line).find())) {
                fileExcluded++;
            } else {
                fileErrors++;
                failures.add(line);
            }
        }
        errors += fileErrors;
        warnings += fileWarnings;
        excluded += fileExcluded;
        System.out.printf("%-90s errors=%d excluded=%d warnings=%d%n", name, fileErrors, fileExcluded, fileWarnings);
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new TreeMap<>();
        List<Path> targets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) opts.put(args[i], args[++i]);
            else targets.add(Path.of(args[i]));
        }
        Validate v = new Validate(Path.of(opts.get("--profiles")), Path.of(opts.get("--ig")),
                Path.of(opts.get("--exclusions")));
        Path root = Path.of(opts.getOrDefault("--root", ".")).toAbsolutePath().normalize();
        for (Path target : targets) {
            try (Stream<Path> files = Files.walk(target)) {
                for (Path f : files.filter(p -> p.toString().matches(".*\\.(json|xml)$")).sorted().toList()) {
                    if (!f.getFileName().toString().equals("package.json")) v.validateFile(root, f.toAbsolutePath().normalize());
                }
            }
        }
        System.out.println("\n== by category (severity messageId: count, excluded errors included) ==");
        v.categories.forEach((k, n) -> System.out.printf("%6d  %s%n", n[0], k));
        System.out.println("\n== errors not excluded ==");
        v.failures.forEach(System.out::println);
        System.out.printf("%nvalidator: %d errors, %d excluded errors, %d warnings%n", v.errors, v.excluded, v.warnings);
        System.exit(v.errors == 0 ? 0 : 1);
    }
}
