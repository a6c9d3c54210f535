package local.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import org.apache.commons.dbcp2.BasicDataSource;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.data.jpa.JpaRepositoriesAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration;
import org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import javax.sql.DataSource;
import java.util.Properties;

@SpringBootApplication(exclude = {
	DataSourceAutoConfiguration.class,
	HibernateJpaAutoConfiguration.class,
	JpaRepositoriesAutoConfiguration.class,
	FlywayAutoConfiguration.class,
	QuartzAutoConfiguration.class,
	ElasticsearchClientAutoConfiguration.class,
	ElasticsearchRestClientAutoConfiguration.class,
	ThymeleafAutoConfiguration.class
})
@Import({JpaR4Config.class, HapiJpaConfig.class, ThreadPoolFactoryConfig.class,
	ca.uhn.fhir.jpa.batch2.JpaBatch2Config.class, ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig.class,
	ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig.class})
public class HapiServerApp {

	public static void main(String[] args) {
		SpringApplication.run(HapiServerApp.class, args);
	}

	@Bean
	public JpaStorageSettings storageSettings() {
		JpaStorageSettings s = new JpaStorageSettings();
		s.setAllowMultipleDelete(true);
		s.setAllowExternalReferences(true);
		// do not serve stale results for repeated identical searches (HAPI default reuses for 60s)
		s.setReuseCachedSearchResultsForMillis(null);
		return s;
	}

	@Bean
	public ca.uhn.fhir.jpa.model.config.PartitionSettings partitionSettings() {
		return new ca.uhn.fhir.jpa.model.config.PartitionSettings();
	}

	@Bean(destroyMethod = "close")
	public DataSource dataSource() {
		BasicDataSource ds = new BasicDataSource();
		ds.setDriverClassName("org.h2.Driver");
		ds.setUrl("jdbc:h2:mem:hapi;DB_CLOSE_DELAY=-1");
		ds.setUsername("sa");
		ds.setPassword("");
		ds.setMaxTotal(20);
		return ds;
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(DataSource dataSource,
			ConfigurableListableBeanFactory beanFactory, FhirContext fhirContext, JpaStorageSettings storageSettings) {
		LocalContainerEntityManagerFactoryBean emf =
			HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setDataSource(dataSource);
		Properties p = new Properties();
		p.put("hibernate.dialect", HapiFhirH2Dialect.class.getName());
		p.put("hibernate.hbm2ddl.auto", "update");
		p.put("hibernate.format_sql", "false");
		p.put("hibernate.show_sql", "false");
		p.put("hibernate.jdbc.batch_size", "20");
		p.put("hibernate.cache.use_query_cache", "false");
		p.put("hibernate.cache.use_second_level_cache", "false");
		p.put("hibernate.cache.use_structured_entries", "false");
		p.put("hibernate.cache.use_minimal_puts", "false");
		p.put("hibernate.search.enabled", "false");
		emf.setJpaProperties(p);
		return emf;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory emf) {
		JpaTransactionManager tm = new JpaTransactionManager();
		tm.setEntityManagerFactory(emf);
		return tm;
	}

	@Bean
	public RestfulServer restfulServer(IFhirSystemDao<?, ?> systemDao, ResourceProviderFactory resourceProviderFactory,
			JpaSystemProvider<?, ?> systemProvider, JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry, IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider) {
		RestfulServer server = new RestfulServer(systemDao.getContext());
		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(systemProvider);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(server, systemDao, storageSettings,
			searchParamRegistry, validationSupport));
		server.setPagingProvider(pagingProvider);
		server.setDefaultPrettyPrint(false);
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer server) {
		ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(server, "/fhir/*");
		reg.setName("fhirServlet");
		reg.setLoadOnStartup(1);
		return reg;
	}
}
