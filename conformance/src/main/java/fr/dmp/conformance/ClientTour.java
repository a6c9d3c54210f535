package fr.dmp.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.PatchTypeEnum;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Date;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Java integrator relies on, driven with HAPI's IGenericClient against a live server:
 * ids from MethodOutcome, typed exceptions carrying the OperationOutcome, paging, include, transaction, operations,
 * in JSON and in XML. Each check prints PASS/FAIL; the last line is "N passed, N failed"; exit 1 on a failure.
 */
public final class ClientTour {
    private static final String INS = "urn:oid:1.2.250.1.213.1.4.10";
    private static final String CLAIRE = "Patient/pat-claire-martin";
    private static final String MASKED = "DocumentReference/doc-claire-martin-cr-consultation-gynecologie-2026-05";
    private static final FhirContext CTX = FhirContext.forR4();

    private final String base;
    private int passed, failed;

    private ClientTour(String base) {
        this.base = base;
        CTX.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        CTX.getRestfulClientFactory().setSocketTimeout(60_000);
    }

    interface Step { void run() throws Exception; }

    private void check(String name, Step step) {
        try {
            step.run();
            passed++;
            System.out.println("PASS " + name);
        } catch (Throwable t) {
            failed++;
            String detail = t instanceof BaseServerResponseException e ? e.getStatusCode() + " " + e.getMessage() : t.toString();
            System.out.println("FAIL " + name + ": " + detail.replace('\n', ' '));
        }
    }

    private static void expect(boolean condition, Supplier<String> message) {
        if (!condition) throw new AssertionError(message.get());
    }

    /** A typed exception whose OperationOutcome the server filled in. */
    private static <T extends BaseServerResponseException> void expectThrows(Class<T> type, Step step) throws Exception {
        try {
            step.run();
        } catch (BaseServerResponseException e) {
            expect(type.isInstance(e), () -> "expected " + type.getSimpleName() + ", got " + e.getClass().getSimpleName()
                    + " " + e.getStatusCode());
            expect(e.getOperationOutcome() instanceof OperationOutcome oo && !oo.getIssue().isEmpty(),
                    () -> type.getSimpleName() + " without its OperationOutcome");
            return;
        }
        throw new AssertionError("expected " + type.getSimpleName() + ", got a success");
    }

    /** POST /dev/token over HTTP/1.1 (the JDK client's default h2c upgrade is issue 11's item 4). */
    private String token(String body) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/dev/token"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(r.body());
        if (!m.find()) throw new IllegalStateException("no token: " + r.statusCode() + " " + r.body());
        return m.group(1);
    }

    private IGenericClient client(String token, EncodingEnum encoding) {
        IGenericClient c = CTX.newRestfulGenericClient(base + "/fhir");
        c.setEncoding(encoding);
        if (token != null) c.registerInterceptor(new BearerTokenAuthInterceptor(token));
        return c;
    }

    private static Patient patient(String ins, String family) {
        Patient p = new Patient();
        p.addIdentifier().setSystem(INS).setValue(ins).setUse(org.hl7.fhir.r4.model.Identifier.IdentifierUse.OFFICIAL);
        p.addName().setFamily(family).addGiven("Camille");
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1980-04-02"));
        return p;
    }

    private void tour(EncodingEnum encoding) throws Exception {
        String tag = " [" + encoding.name() + "]";
        IGenericClient sys = client(token("{\"as\": \"Device/java-tour\", \"scope\": \"system/*.cruds\"}"), encoding);
        IGenericClient gp = client(token("{\"as\": \"Practitioner/pra-antoine-lefebvre\"}"), encoding);
        IGenericClient claire = client(token("{\"as\": \"" + CLAIRE + "\"}"), encoding);
        IGenericClient anonymous = client(null, encoding);
        String[] id = new String[1];
        Date[] beforeUpdate = new Date[1];

        check("metadata is a CapabilityStatement for 4.0.1" + tag, () -> {
            CapabilityStatement cs = anonymous.capabilities().ofType(CapabilityStatement.class).execute();
            expect("4.0.1".equals(cs.getFhirVersion().toCode()), () -> "fhirVersion " + cs.getFhirVersion());
        });
        check("create: MethodOutcome has the id, version 1, created" + tag, () -> {
            MethodOutcome out = sys.create().resource(patient("280049912345678", "Tour")).execute();
            expect(out.getId() != null && out.getId().hasIdPart(), () -> "no id in MethodOutcome");
            expect("1".equals(out.getId().getVersionIdPart()), () -> "version " + out.getId().getVersionIdPart());
            expect(Boolean.TRUE.equals(out.getCreated()), () -> "created flag " + out.getCreated());
            id[0] = out.getId().getIdPart();
        });
        check("conditional create that matches: MethodOutcome names the existing Patient" + tag, () -> {
            MethodOutcome out = sys.create().resource(patient("284066938441230", "Martin"))
                    .conditionalByUrl("Patient?identifier=" + INS + "|284066938441230").execute();
            expect(out.getId() != null && "pat-claire-martin".equals(out.getId().getIdPart()), () -> "id " + out.getId());
        });
        check("read and vread" + tag, () -> {
            Patient p = sys.read().resource(Patient.class).withId(id[0]).execute();
            expect("Tour".equals(p.getNameFirstRep().getFamily()), () -> "family " + p.getNameFirstRep().getFamily());
            Patient v1 = sys.read().resource(Patient.class).withIdAndVersion(id[0], "1").execute();
            expect("1".equals(v1.getIdElement().getVersionIdPart()), () -> "vread version " + v1.getIdElement());
            beforeUpdate[0] = new Date(p.getMeta().getLastUpdated().getTime() - 1000);
        });
        check("update: MethodOutcome has the id and version 2" + tag, () -> {
            Patient p = patient("280049912345678", "Tour");
            p.setId(id[0]);
            p.setGender(Enumerations.AdministrativeGender.OTHER);
            MethodOutcome out = sys.update().resource(p).execute();
            expect(out.getId() != null && "2".equals(out.getId().getVersionIdPart()), () -> "id " + out.getId());
        });
        check("patch (JSON Patch): MethodOutcome has the id and version 3" + tag, () -> {
            MethodOutcome out = sys.patch().withBody("[{\"op\": \"replace\", \"path\": \"/gender\", \"value\": \"female\"}]")
                    .withId("Patient/" + id[0]).execute();
            expect(out.getId() != null && "3".equals(out.getId().getVersionIdPart()), () -> "id " + out.getId());
            Patient p = sys.read().resource(Patient.class).withId(id[0]).execute();
            expect(p.getGender() == Enumerations.AdministrativeGender.FEMALE, () -> "gender " + p.getGender());
        });
        check("history with since (the offset's '+' unescaped, as HAPI sends it)" + tag, () -> {
            Bundle h = sys.history().onInstance("Patient/" + id[0]).returnBundle(Bundle.class).since(beforeUpdate[0]).execute();
            expect(h.getType() == Bundle.BundleType.HISTORY && h.getEntry().size() >= 2, () -> "entries " + h.getEntry().size());
        });
        check("search with _include and paging through the next link" + tag, () -> {
            Bundle page = gp.search().forResource(DocumentReference.class)
                    .where(DocumentReference.PATIENT.hasId(CLAIRE)).include(DocumentReference.INCLUDE_AUTHOR)
                    .count(2).returnBundle(Bundle.class).execute();
            expect(page.getEntry().stream().anyMatch(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.INCLUDE),
                    () -> "no included author");
            expect(page.getLink(Bundle.LINK_NEXT) != null, () -> "no next link");
            Bundle next = gp.loadPage().next(page).execute();
            expect(!next.getEntry().isEmpty(), () -> "empty second page");
        });
        check("transaction: a Patient by urn:uuid, ids in the response" + tag, () -> {
            Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            tx.addEntry().setFullUrl("urn:uuid:6f4b1a9e-0000-4000-8000-00000000beef").setResource(patient("280049912345679", "Tx"))
                    .getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
            Bundle out = sys.transaction().withBundle(tx).execute();
            expect(out.getType() == Bundle.BundleType.TRANSACTIONRESPONSE, () -> "type " + out.getType());
            expect(out.getEntryFirstRep().getResponse().getStatus().startsWith("201"), () -> "status " + out.getEntryFirstRep().getResponse().getStatus());
        });
        check("batch: one success, one 404 with its OperationOutcome" + tag, () -> {
            Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
            batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl(CLAIRE);
            batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient/does-not-exist");
            Bundle out = sys.transaction().withBundle(batch).execute();
            expect(out.getEntry().get(0).getResponse().getStatus().startsWith("200"), () -> "first " + out.getEntry().get(0).getResponse().getStatus());
            expect(out.getEntry().get(1).getResponse().getStatus().startsWith("404"), () -> "second " + out.getEntry().get(1).getResponse().getStatus());
            expect(out.getEntry().get(1).getResponse().getOutcome() instanceof OperationOutcome, () -> "no outcome");
        });
        check("$everything: the Patient once, then its compartment" + tag, () -> {
            Bundle all = gp.operation().onInstance(new IdType(CLAIRE)).named("$everything").withNoParameters(Parameters.class)
                    .useHttpGet().returnResourceType(Bundle.class).execute();
            long patients = all.getEntry().stream().filter(e -> e.getResource() instanceof Patient p
                    && "pat-claire-martin".equals(p.getIdElement().getIdPart())).count();
            expect(patients == 1, () -> "the Patient appears " + patients + " times");
            expect(all.getEntry().stream().anyMatch(e -> e.getResource() instanceof DocumentReference), () -> "no documents");
        });
        check("custom operations: the holder unmasks then masks a document" + tag, () -> {
            claire.operation().onInstance(new IdType(MASKED)).named("$unmask").withNoParameters(Parameters.class).execute();
            claire.operation().onInstance(new IdType(MASKED)).named("$mask").withNoParameters(Parameters.class).execute();
            DocumentReference d = claire.read().resource(DocumentReference.class).withId(new IdType(MASKED)).execute();
            expect(d.getSecurityLabel().stream().flatMap(c -> c.getCoding().stream()).anyMatch(c -> "MASQUE_PS".equals(c.getCode())),
                    () -> "not masked");
        });
        check("401 → AuthenticationException with an OperationOutcome" + tag,
                () -> expectThrows(AuthenticationException.class, () -> anonymous.read().resource(Patient.class).withId("pat-claire-martin").execute()));
        check("404 → ResourceNotFoundException with an OperationOutcome" + tag,
                () -> expectThrows(ResourceNotFoundException.class, () -> sys.read().resource(Patient.class).withId("does-not-exist").execute()));
        check("400 → InvalidRequestException with an OperationOutcome" + tag,
                () -> expectThrows(InvalidRequestException.class, () -> sys.search().byUrl("Patient?birthdate=not-a-date").returnBundle(Bundle.class).execute()));
        check("422 → UnprocessableEntityException with an OperationOutcome" + tag,
                () -> expectThrows(UnprocessableEntityException.class, () -> sys.create().resource(new Patient().setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1980"))).execute()));
        check("412 → PreconditionFailedException on a stale If-Match" + tag, () -> expectThrows(PreconditionFailedException.class, () -> {
            Patient p = patient("280049912345678", "Tour");
            p.setId(new IdType("Patient", id[0], "1"));
            sys.update().resource(p).withId(new IdType("Patient", id[0], "1")).execute();
        }));
        check("delete, then 410 → ResourceGoneException" + tag, () -> {
            sys.delete().resourceById("Patient", id[0]).execute();
            expectThrows(ResourceGoneException.class, () -> sys.read().resource(Patient.class).withId(id[0]).execute());
        });
    }

    public static void main(String[] args) throws Exception {
        ClientTour t = new ClientTour(args[0].replaceAll("/+$", ""));
        t.tour(EncodingEnum.JSON);
        t.tour(EncodingEnum.XML);
        System.out.printf("%d passed, %d failed%n", t.passed, t.failed);
        System.exit(t.failed == 0 ? 0 : 1);
    }
}
